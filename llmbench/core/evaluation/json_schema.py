"""The subset of JSON Schema that `json-schema` checks enforce: checking a schema when the
check is parsed (`check_schema`) and listing where a value breaks it (`schema_errors`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmbench.core.evaluation.check_spec import CheckError, thaw
from llmbench.core.evaluation.check_values import compile_pattern

SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
        "allOf",
        "oneOf",
    }
)
"""The JSON Schema keywords json-schema checks enforce; any other keyword is refused when the
check is parsed rather than ignored (a schema that silently checks less than it says is worse
than none). Annotations ($schema, $id, title, description, default, examples, $comment) are
allowed and ignored."""
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "default", "examples", "$comment"}
)
_JSON_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")


def schema_value(value: object, prefix: str) -> Mapping[str, object]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as error:
            raise CheckError(f"{prefix}the schema is not valid JSON: {error}") from None
    if isinstance(value, bool) or not isinstance(value, Mapping):
        raise CheckError(f"{prefix}needs a JSON Schema object as its value")
    return value


def check_schema(schema: object, *, prefix: str = "", path: str = "#") -> None:
    """Raise CheckError when schema uses a keyword outside SCHEMA_KEYWORDS or gives one a value
    of the wrong type."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, Mapping):
        raise CheckError(f"{prefix}schema at {path} must be an object or a boolean")

    def bad(keyword: str, expected: str) -> CheckError:
        return CheckError(f"{prefix}schema at {path}: {keyword} must be {expected}")

    for keyword, argument in schema.items():
        where = f"{path}/{keyword}"
        if keyword in _ANNOTATIONS:
            continue
        if keyword not in SCHEMA_KEYWORDS:
            raise CheckError(
                f"{prefix}schema at {path}: keyword {keyword!r} is not supported "
                f"(supported: {', '.join(sorted(SCHEMA_KEYWORDS))})"
            )
        if keyword == "type":
            names = [argument] if isinstance(argument, str) else argument
            if not isinstance(names, Sequence) or not all(name in _JSON_TYPES for name in names):
                raise bad(keyword, f"one or a list of {', '.join(_JSON_TYPES)}")
        elif keyword == "properties":
            if not isinstance(argument, Mapping):
                raise bad(keyword, "an object of schemas")
            for name, subschema in argument.items():
                check_schema(subschema, prefix=prefix, path=f"{where}/{name}")
        elif keyword == "required":
            if not _is_list(argument) or not all(isinstance(name, str) for name in argument):
                raise bad(keyword, "a list of property names")
        elif keyword in ("additionalProperties", "items"):
            check_schema(argument, prefix=prefix, path=where)
        elif keyword in ("anyOf", "allOf", "oneOf"):
            if not _is_list(argument) or not argument:
                raise bad(keyword, "a non-empty list of schemas")
            for index, subschema in enumerate(argument):
                check_schema(subschema, prefix=prefix, path=f"{where}/{index}")
        elif keyword == "enum":
            if not _is_list(argument):
                raise bad(keyword, "a list")
        elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(argument, bool) or not isinstance(argument, int | float):
                raise bad(keyword, "a number")
        elif keyword in ("minLength", "maxLength", "minItems", "maxItems"):
            if isinstance(argument, bool) or not isinstance(argument, int) or argument < 0:
                raise bad(keyword, "a whole number, 0 or more")
        elif keyword == "pattern":
            if not isinstance(argument, str):
                raise bad(keyword, "a regular expression")
            compile_pattern(argument, False, f"{prefix}schema at {where}: ")


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def schema_errors(instance: object, schema: object, path: str = "$") -> list[str]:
    """Where instance breaks schema (a schema check_schema accepts), as 'path: problem'."""
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: not allowed here"]
    assert isinstance(schema, Mapping)
    errors: list[str] = []
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
        if not any(_has_type(instance, name) for name in names):
            return [f"{path}: expected {' or '.join(names)}, got {json_type(instance)}"]
    if "const" in schema and not _json_equal(instance, schema["const"]):
        errors.append(f"{path}: must be {json.dumps(thaw(schema['const']))}")
    if "enum" in schema and not any(_json_equal(instance, item) for item in schema["enum"]):
        errors.append(f"{path}: must be one of {json.dumps(thaw(schema['enum']))}")
    if _is_number(instance):
        errors += _number_errors(instance, schema, path)
    if isinstance(instance, str):
        errors += _string_errors(instance, schema, path)
    if isinstance(instance, list):
        errors += _array_errors(instance, schema, path)
    if isinstance(instance, dict):
        errors += _object_errors(instance, schema, path)
    for subschema in schema.get("allOf", ()):
        errors += schema_errors(instance, subschema, path)
    if "anyOf" in schema and all(schema_errors(instance, s, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema:
        matching = sum(not schema_errors(instance, s, path) for s in schema["oneOf"])
        if matching != 1:
            errors.append(f"{path}: matches {matching} of oneOf, not exactly one")
    return errors


def _number_errors(number: float, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    limits = (
        ("minimum", lambda limit: number >= limit, ">="),
        ("maximum", lambda limit: number <= limit, "<="),
        ("exclusiveMinimum", lambda limit: number > limit, ">"),
        ("exclusiveMaximum", lambda limit: number < limit, "<"),
    )
    for keyword, holds, sign in limits:
        if keyword in schema and not holds(schema[keyword]):
            errors.append(f"{path}: {number!r} is not {sign} {schema[keyword]!r}")
    return errors


def _string_errors(text: str, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if "minLength" in schema and len(text) < schema["minLength"]:
        errors.append(f"{path}: shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(text) > schema["maxLength"]:
        errors.append(f"{path}: longer than {schema['maxLength']} characters")
    if "pattern" in schema and re.search(schema["pattern"], text) is None:
        errors.append(f"{path}: does not match /{schema['pattern']}/")
    return errors


def _array_errors(items: list[Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if "minItems" in schema and len(items) < schema["minItems"]:
        errors.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(items) > schema["maxItems"]:
        errors.append(f"{path}: more than {schema['maxItems']} items")
    if "items" in schema:
        for index, item in enumerate(items):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def _object_errors(instance: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    errors = [
        f"{path}: missing required {name!r}"
        for name in schema.get("required", ())
        if name not in instance
    ]
    for name, item in instance.items():
        if name in properties:
            errors += schema_errors(item, properties[name], f"{path}.{name}")
        elif "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            if extra is False:
                errors.append(f"{path}: unexpected property {name!r}")
            else:
                errors += schema_errors(item, extra, f"{path}.{name}")
    return errors


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_type(value: object, name: str) -> bool:
    if name == "integer":
        # JSON Schema counts 1.0 as an integer: it is one, written with a point.
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    return json_type(value) == name or (name == "number" and _is_number(value))


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def _json_equal(first: object, second: object) -> bool:
    """Equality as JSON sees it: true is not 1, 1 is 1.0, [1] is (1,)."""
    if _is_number(first) and _is_number(second):
        return first == second
    if json_type(first) != json_type(second):
        return False
    if isinstance(first, Mapping) and isinstance(second, Mapping):
        return first.keys() == second.keys() and all(
            _json_equal(item, second[key]) for key, item in first.items()
        )
    if isinstance(first, list | tuple) and isinstance(second, list | tuple):
        return len(first) == len(second) and all(
            _json_equal(a, b) for a, b in zip(first, second, strict=True)
        )
    return first == second
