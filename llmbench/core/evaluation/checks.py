"""Deterministic checks on a model's output: what they are (`CheckSpec`, parsed strictly from a
suite file by `parse_check`) and how one is run (`run_check`, which never raises on any output).

Every check gives a score in 0..1 and a pass. Binary checks score 0 or 1; graded ones
(contains-all, banned-phrases, length, latency-le, cost-le, similar) score partial credit, and
with a `threshold` a check passes when its score reaches it. `negate` turns a pass into a fail
and a score s into 1 - s. `weight` counts in `aggregate`'s weighted mean; a cell passes only when
every one of its checks does.

String values may use the case's variables as Jinja (`{{ reference }}`, `{{ expected.id }}`):
they are rendered in the sandbox at run time, with `expected` the golden answer (parsed when it
is JSON).

promptfoo's assertion names are read too: `not-<type>` negates, `icontains-any`/`-all`,
`latency`/`cost` (their limit in `threshold`), `max-length`/`min-length`, and `llm-rubric`,
which becomes a "judge" spec for the run engine to grade with a judge model. Anything else
(`javascript`, `python`, `webhook`, ...) is refused by name, never silently dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from llmbench.core.evaluation.similarity import SIMILARITY_METHODS, golden_similarity
from llmbench.core.prompts.templates import TemplateError, render_section
from llmbench.core.tokens import count_tokens

CHECK_KINDS: tuple[str, ...] = (
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "starts-with",
    "regex",
    "is-json",
    "json-schema",
    "length",
    "banned-phrases",
    "pii-present",
    "latency-le",
    "cost-le",
    "is-refusal",
    "similar",
)
JUDGE_KIND = "judge"
"""Parsed from promptfoo's `llm-rubric` (or written as `judge`): graded by the run engine with a
judge model, not by run_check."""

DEFAULT_SIMILARITY_THRESHOLD = 0.75  # promptfoo's default for `similar`
EMBEDDING_METHOD = "embedding"
# `similar` compares by embedding cosine (promptfoo's meaning) unless a lexical method is asked
# for; where no embedding model is configured it falls back to ROUGE-L and says so.
SIMILAR_METHODS: tuple[str, ...] = (EMBEDDING_METHOD, *SIMILARITY_METHODS)
FALLBACK_SIMILARITY_METHOD = "rouge-l"
NO_EMBEDDING_MODEL = "no embedding model configured ([models] embedding_model)"
LENGTH_UNITS = ("chars", "tokens")
PII_KINDS = ("email", "phone", "credit_card")

# Keys any check may carry; `metric` and `description` are labels, kept in options.
_COMMON_KEYS = frozenset({"type", "kind", "value", "negate", "not", "weight", "threshold"})
_LABEL_KEYS = ("metric", "description")
_OPTION_KEYS: dict[str, frozenset[str]] = {
    "equals": frozenset(),
    "contains": frozenset(),
    "icontains": frozenset(),
    "contains-any": frozenset({"ignore_case"}),
    "contains-all": frozenset({"ignore_case"}),
    "starts-with": frozenset(),
    "regex": frozenset({"ignore_case"}),
    "is-json": frozenset(),
    "json-schema": frozenset(),
    "length": frozenset({"min", "max", "unit", "model"}),
    "banned-phrases": frozenset({"ignore_case"}),
    "pii-present": frozenset({"kinds"}),
    "latency-le": frozenset(),
    "cost-le": frozenset(),
    "is-refusal": frozenset(),
    "similar": frozenset({"method"}),
    JUDGE_KIND: frozenset(),
}
# Kinds whose value may be left out: the case's expected answer stands in.
_EXPECTED_BY_DEFAULT = frozenset({"equals", "contains", "icontains", "similar"})


class CheckError(ValueError):
    """A check in a suite or config that cannot be used, with where it was written."""


@dataclass(frozen=True)
class CheckSpec:
    kind: str
    value: object = None
    negate: bool = False
    weight: float = 1.0
    threshold: float | None = None
    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        # The value may be a schema (a mapping): hash the spec's canonical JSON instead.
        return hash(json.dumps(check_to_data(self), sort_keys=True, default=str))


@dataclass(frozen=True)
class CheckContext:
    expected: str | None = None
    latency_ms: float | None = None
    cost: float | None = None
    model: str = ""
    variables: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Why an embedding `similar` check falls back to lexical similarity here (run_check never
    # embeds; the eval engine does when a model is configured and passes its problem, if any).
    embedding_unavailable: str = NO_EMBEDDING_MODEL


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    score: float
    detail: str
    weight: float


# -- parsing --------------------------------------------------------------------------------


def parse_check(data: Mapping[str, object], *, where: str = "") -> CheckSpec:
    """A CheckSpec from a suite's mapping (`type:` or `kind:`, `value:`, `negate:`, `weight:`,
    `threshold:` and the kind's own options), validated; CheckError says what is wrong."""
    prefix = f"{where}: " if where else ""
    if not isinstance(data, Mapping):
        raise CheckError(f"{prefix}a check must be a mapping, got {_type_name(data)}")
    name = data.get("type", data.get("kind"))
    if "type" in data and "kind" in data and data["type"] != data["kind"]:
        raise CheckError(f"{prefix}give either type or kind, not both")
    if not isinstance(name, str) or not name.strip():
        raise CheckError(f"{prefix}a check needs a type (one of {', '.join(CHECK_KINDS)})")
    prefix = f"{prefix}check {name!r}: "
    fields = dict(data)
    kind, negate = _resolve_name(name.strip(), fields, prefix)
    unknown = sorted(set(fields) - _COMMON_KEYS - set(_LABEL_KEYS) - _OPTION_KEYS[kind])
    if unknown:
        known = sorted({"value", "negate", "weight", "threshold"} | _OPTION_KEYS[kind])
        raise CheckError(f"{prefix}unknown field {unknown[0]!r} (known: {', '.join(known)})")
    negate = negate != _boolean(fields.get("negate", fields.get("not", False)), "negate", prefix)
    weight = _number(fields.get("weight", 1.0), "weight", prefix)
    if weight < 0:
        raise CheckError(f"{prefix}weight must be 0 or more, got {weight:g}")
    threshold = fields.get("threshold")
    if threshold is not None:
        threshold = _number(threshold, "threshold", prefix)
        if not 0.0 <= threshold <= 1.0:
            raise CheckError(f"{prefix}threshold must be between 0 and 1, got {threshold:g}")
    options: dict[str, object] = {key: fields[key] for key in _LABEL_KEYS if key in fields}
    options.update({key: fields[key] for key in _OPTION_KEYS[kind] if key in fields})
    if kind == "similar" and threshold is None:
        threshold = DEFAULT_SIMILARITY_THRESHOLD
    spec = CheckSpec(
        kind=kind,
        value=_freeze(fields.get("value")),
        negate=negate,
        weight=weight,
        threshold=threshold,
        options=MappingProxyType({key: _freeze(item) for key, item in options.items()}),
    )
    if kind == "is-json" and spec.value is not None:
        spec = CheckSpec("json-schema", spec.value, negate, weight, threshold, spec.options)
    validate_check(spec, prefix=prefix)
    return spec


def _resolve_name(name: str, fields: dict[str, object], prefix: str) -> tuple[str, bool]:
    """The kind a (possibly promptfoo) name stands for and whether it negates; moves the alias's
    fields (a limit in `threshold`, a length in `value`) to where the kind wants them."""
    negate = False
    if name.startswith("not-"):
        negate, name = True, name[len("not-") :]
    if name in ("llm-rubric", JUDGE_KIND):
        return JUDGE_KIND, negate
    if name in ("icontains-any", "icontains-all"):
        fields["ignore_case"] = True
        return name[1:], negate
    if name in ("latency", "cost"):
        if "value" not in fields:
            if "threshold" not in fields:
                raise CheckError(f"{prefix}needs its limit in threshold")
            fields["value"] = fields.pop("threshold")
        return f"{name}-le", negate
    if name in ("max-length", "min-length"):
        if "value" not in fields:
            raise CheckError(f"{prefix}needs a value (the length)")
        fields[name[:3]] = fields.pop("value")
        return "length", negate
    if name not in CHECK_KINDS:
        raise CheckError(
            f"{prefix}this check type is not supported (supported: {', '.join(CHECK_KINDS)}, "
            "llm-rubric, and not- before any of them)"
        )
    return name, negate


def validate_check(spec: CheckSpec, *, prefix: str = "") -> None:
    """Raise CheckError when spec (parsed or built in code) cannot run."""
    kind, value, options = spec.kind, spec.value, spec.options
    if kind not in _OPTION_KEYS:
        raise CheckError(f"{prefix}unknown check kind {kind!r}")
    if kind in ("equals", "contains", "icontains", "starts-with", "similar"):
        if value is None and kind in _EXPECTED_BY_DEFAULT:
            pass
        elif kind == "equals" and isinstance(value, Mapping | list | tuple):
            _json_text(value, prefix)
        else:
            _text_value(value, prefix)
        if kind == "similar" and options.get("method", EMBEDDING_METHOD) not in SIMILAR_METHODS:
            raise CheckError(f"{prefix}method must be one of {', '.join(SIMILAR_METHODS)}")
    elif kind in ("contains-any", "contains-all", "banned-phrases"):
        _phrases(value, prefix)
    elif kind == "regex":
        pattern = _text_value(value, prefix)
        if not _is_template(pattern):
            _compile(pattern, bool(options.get("ignore_case", False)), prefix)
    elif kind == "json-schema":
        check_schema(_schema_value(value, prefix), prefix=prefix)
    elif kind in ("length", "pii-present", "is-json", "is-refusal") and value is not None:
        hint = {"length": " (use min and max)", "pii-present": " (use kinds)"}.get(kind, "")
        raise CheckError(f"{prefix}takes no value{hint}")
    elif kind == "length":
        _length_bounds(options, prefix)
    elif kind == "pii-present":
        _pii_kinds(options.get("kinds"), prefix)
    elif kind in ("latency-le", "cost-le"):
        limit = _number(value, "value", prefix)
        if limit < 0:
            raise CheckError(f"{prefix}the limit must be 0 or more, got {limit:g}")
    elif kind == JUDGE_KIND and (not isinstance(value, str) or not value.strip()):
        raise CheckError(f"{prefix}needs the rubric text as its value")
    if "ignore_case" in options:
        _boolean(options["ignore_case"], "ignore_case", prefix)


def check_to_data(spec: CheckSpec) -> dict[str, Any]:
    """The mapping parse_check reads back into spec (for storing a run's config as JSON)."""
    data: dict[str, Any] = {"kind": spec.kind}
    if spec.value is not None:
        data["value"] = _thaw(spec.value)
    if spec.negate:
        data["negate"] = True
    if spec.weight != 1.0:
        data["weight"] = spec.weight
    if spec.threshold is not None:
        data["threshold"] = spec.threshold
    data.update({key: _thaw(item) for key, item in spec.options.items()})
    return data


def _type_name(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _boolean(value: object, name: str, prefix: str) -> bool:
    if not isinstance(value, bool):
        raise CheckError(f"{prefix}{name} must be true or false, got {_type_name(value)}")
    return value


def _number(value: object, name: str, prefix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CheckError(f"{prefix}{name} must be a number, got {_type_name(value)}")
    if not math.isfinite(value):
        raise CheckError(f"{prefix}{name} must be a finite number")
    return float(value)


def _text_value(value: object, prefix: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or value == "":
        raise CheckError(f"{prefix}needs a non-empty text value, got {_type_name(value)}")
    return value


def _phrases(value: object, prefix: str) -> tuple[str, ...]:
    # promptfoo writes a list, or one string with commas between the phrases.
    if isinstance(value, str):
        items: Sequence[object] = [part.strip() for part in value.split(",")]
    elif isinstance(value, Sequence):
        items = value
    else:
        raise CheckError(f"{prefix}needs a list of phrases, got {_type_name(value)}")
    phrases = tuple(_text_value(item, prefix) for item in items)
    if not phrases:
        raise CheckError(f"{prefix}needs at least one phrase")
    return phrases


def _compile(pattern: str, ignore_case: bool, prefix: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise CheckError(f"{prefix}bad regular expression: {error}") from None


def _length_bounds(options: Mapping[str, object], prefix: str) -> tuple[int | None, int | None]:
    bounds = []
    for name in ("min", "max"):
        bound = options.get(name)
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise CheckError(f"{prefix}{name} must be a whole number, got {_type_name(bound)}")
        if bound is not None and bound < 0:
            raise CheckError(f"{prefix}{name} must be 0 or more")
        bounds.append(bound)
    low, high = bounds
    if low is None and high is None:
        raise CheckError(f"{prefix}needs min, max or both")
    if low is not None and high is not None and low > high:
        raise CheckError(f"{prefix}min ({low}) is above max ({high})")
    unit = options.get("unit", "chars")
    if unit not in LENGTH_UNITS:
        raise CheckError(f"{prefix}unit must be chars or tokens, got {unit!r}")
    model = options.get("model")
    if model is not None and not isinstance(model, str):
        raise CheckError(f"{prefix}model must be a model name")
    return low, high


def _pii_kinds(value: object, prefix: str) -> tuple[str, ...]:
    if value is None:
        return PII_KINDS
    kinds = (value,) if isinstance(value, str) else value
    if not isinstance(kinds, Sequence) or not kinds:
        raise CheckError(f"{prefix}kinds must be a list of {', '.join(PII_KINDS)}")
    for kind in kinds:
        if kind not in PII_KINDS:
            raise CheckError(f"{prefix}unknown PII kind {kind!r} (known: {', '.join(PII_KINDS)})")
    return tuple(kinds)


def _freeze(value: object) -> object:
    """Lists to tuples, mappings to read-only mappings, so a spec cannot change under a run."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: object) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    return value


def _json_text(value: object, prefix: str) -> str:
    try:
        return json.dumps(_thaw(value), sort_keys=True)
    except (TypeError, ValueError) as error:
        raise CheckError(f"{prefix}value is not JSON data: {error}") from None


# -- JSON Schema (a subset) -----------------------------------------------------------------

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


def _schema_value(value: object, prefix: str) -> Mapping[str, object]:
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
            _compile(argument, False, f"{prefix}schema at {where}: ")


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
            return [f"{path}: expected {' or '.join(names)}, got {_json_type(instance)}"]
    if "const" in schema and not _json_equal(instance, schema["const"]):
        errors.append(f"{path}: must be {json.dumps(_thaw(schema['const']))}")
    if "enum" in schema and not any(_json_equal(instance, item) for item in schema["enum"]):
        errors.append(f"{path}: must be one of {json.dumps(_thaw(schema['enum']))}")
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
    return _json_type(value) == name or (name == "number" and _is_number(value))


def _json_type(value: object) -> str:
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
    if _json_type(first) != _json_type(second):
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


# -- running --------------------------------------------------------------------------------


def run_check(spec: CheckSpec, output: str, context: CheckContext) -> CheckResult:
    """Run one check on output. Never raises on output text: junk fails with a detail. A spec
    that cannot run (a bad template, a judge spec) fails the same way, saying why."""
    if spec.kind == JUDGE_KIND:
        return _result(spec, False, 0.0, "judge checks are graded by the judge model")
    try:
        validate_check(spec)
        spec = _rendered(spec, context)
        passed, score, detail = _evaluate(spec, output if isinstance(output, str) else "", context)
    except (CheckError, TemplateError) as error:
        return _result(spec, False, 0.0, f"cannot run: {error}")
    if spec.negate:
        passed, score, detail = not passed, 1.0 - score, f"not: {detail}"
    if spec.threshold is not None and spec.kind != "similar":
        passed = score >= spec.threshold
    return _result(spec, passed, score, detail)


def _result(spec: CheckSpec, passed: bool, score: float, detail: str) -> CheckResult:
    return CheckResult(spec.kind, passed, round(min(1.0, max(0.0, score)), 6), detail, spec.weight)


def aggregate(results: Iterable[CheckResult]) -> tuple[bool, float]:
    """Whether every check passed, and the weighted mean score (the plain mean when every
    weight is 0). No checks: (True, 1.0)."""
    results = list(results)
    if not results:
        return True, 1.0
    passed = all(result.passed for result in results)
    total_weight = math.fsum(result.weight for result in results)
    if total_weight <= 0:
        return passed, math.fsum(result.score for result in results) / len(results)
    weighted = math.fsum(result.score * result.weight for result in results)
    return passed, weighted / total_weight


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _template_values(context: CheckContext) -> dict[str, object]:
    expected: object = context.expected
    if context.expected is not None:
        try:
            expected = json.loads(context.expected)
        except (ValueError, RecursionError):
            expected = context.expected
    return {**context.variables, "expected": expected}


def _rendered(spec: CheckSpec, context: CheckContext) -> CheckSpec:
    """spec with the Jinja in its text values rendered with the case's variables."""
    if spec.kind == "json-schema":
        return spec
    value = spec.value
    if isinstance(value, str) and _is_template(value):
        value = render_section("value", value, _template_values(context))
    elif isinstance(value, tuple) and any(isinstance(v, str) and _is_template(v) for v in value):
        values = _template_values(context)
        value = tuple(
            render_section("value", v, values) if isinstance(v, str) and _is_template(v) else v
            for v in value
        )
    else:
        return spec
    return CheckSpec(spec.kind, value, spec.negate, spec.weight, spec.threshold, spec.options)


def _evaluate(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    evaluate = _EVALUATORS[spec.kind]
    return evaluate(spec, output, context)


def _binary(passed: bool, detail: str) -> tuple[bool, float, str]:
    return passed, float(passed), detail


def _reference(spec: CheckSpec, context: CheckContext) -> str:
    if spec.value is None:
        if context.expected is None:
            raise CheckError("no value and the case has no expected answer")
        return context.expected
    return _text_value(spec.value, "")


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _equals(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    if isinstance(spec.value, Mapping | list | tuple):
        wanted = json.loads(_json_text(spec.value, ""))
        parsed = _load_json(output)
        if isinstance(parsed, str):
            return _binary(False, f"not JSON: {parsed}")
        same = _canonical(parsed[0]) == _canonical(wanted)
        return _binary(same, "same JSON" if same else "different JSON")
    reference = _reference(spec, context)
    same = output.strip() == reference.strip()
    return _binary(same, "equal" if same else f"expected {_short(reference.strip())}")


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _contains(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = _reference(spec, context)
    if spec.kind == "icontains":
        found = reference.casefold() in output.casefold()
    else:
        found = reference in output
    return _binary(found, f"{'found' if found else 'missing'} {_short(reference)}")


def _starts_with(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    prefix = _text_value(spec.value, "")
    starts = output.lstrip().startswith(prefix)
    return _binary(starts, f"{'starts' if starts else 'does not start'} with {_short(prefix)}")


def _found_phrases(spec: CheckSpec, output: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    phrases = _phrases(spec.value, "")
    ignore_case = bool(spec.options.get("ignore_case", spec.kind == "banned-phrases"))
    haystack = output.casefold() if ignore_case else output
    found = tuple(p for p in phrases if (p.casefold() if ignore_case else p) in haystack)
    return phrases, found


def _contains_any(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    phrases, found = _found_phrases(spec, output)
    if found:
        return _binary(True, f"found {_short(found[0])}")
    return _binary(False, f"none of {len(phrases)} phrases found")


def _contains_all(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    phrases, found = _found_phrases(spec, output)
    missing = [phrase for phrase in phrases if phrase not in found]
    detail = "all found" if not missing else f"missing {_short(missing[0])}"
    if len(missing) > 1:
        detail += f" and {len(missing) - 1} more"
    return not missing, len(found) / len(phrases), detail


def _banned(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    phrases, found = _found_phrases(spec, output)
    detail = "no banned phrase" if not found else f"contains {_short(found[0])}"
    if len(found) > 1:
        detail += f" and {len(found) - 1} more"
    return not found, 1.0 - len(found) / len(phrases), detail


def _regex(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    pattern = _text_value(spec.value, "")
    compiled = _compile(pattern, bool(spec.options.get("ignore_case", False)), "")
    matched = compiled.search(output) is not None
    return _binary(matched, f"/{pattern}/ {'matched' if matched else 'no match'}")


def _load_json(output: str) -> tuple[object] | str:
    """(the parsed value,) or why output is not JSON."""
    try:
        return (json.loads(output),)
    except RecursionError:
        return "nested too deeply"
    except ValueError as error:
        return str(error.args[0]) if error.args else "invalid"


def _is_json(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    parsed = _load_json(output)
    if isinstance(parsed, str):
        return _binary(False, f"not JSON: {parsed}")
    return _binary(True, f"JSON {_json_type(parsed[0])}")


def _json_schema(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    parsed = _load_json(output)
    if isinstance(parsed, str):
        return _binary(False, f"not JSON: {parsed}")
    try:
        errors = schema_errors(parsed[0], _schema_value(spec.value, ""))
    except RecursionError:
        return _binary(False, "nested too deeply to validate")
    if not errors:
        return _binary(True, "matches the schema")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return _binary(False, errors[0] + more)


def _length(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    low, high = _length_bounds(spec.options, "")
    unit = str(spec.options.get("unit", "chars"))
    if unit == "tokens":
        model = str(spec.options.get("model") or context.model)
        size = count_tokens(output, model)
    else:
        size = len(output)
    bounds = " and ".join(
        text
        for text in (f"≥ {low}" if low is not None else "", f"≤ {high}" if high is not None else "")
        if text
    )
    detail = f"{size} {unit} (wanted {bounds})"
    # Partial credit in proportion to how far outside the bound the output is.
    if high is not None and size > high:
        return False, high / size, detail
    if low is not None and size < low:
        return False, size / low, detail
    return True, 1.0, detail


def _limit(
    spec: CheckSpec, measured: float | None, what: str, unit: str
) -> tuple[bool, float, str]:
    limit = _number(spec.value, "value", "")
    if measured is None or not math.isfinite(measured):
        return False, 0.0, f"no {what} recorded"
    detail = f"{what} {measured:g}{unit} (limit {limit:g}{unit})"
    if measured <= limit:
        return True, 1.0, detail
    return False, limit / measured, detail


def _latency(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    return _limit(spec, context.latency_ms, "latency", " ms")


def _cost(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    return _limit(spec, context.cost, "cost", " USD")


def _pii(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    kinds = _pii_kinds(spec.options.get("kinds"), "")
    found = find_pii(output, kinds)
    if not found:
        return _binary(False, "no PII found")
    return _binary(True, "found " + ", ".join(sorted(set(found))))


def _refusal(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    if not output.strip():
        return _binary(True, "empty output")
    match = _REFUSAL.search(output.replace("’", "'"))
    if match is None:
        return _binary(False, "not a refusal")
    return _binary(True, f"refusal: {_short(match.group(0))}")


def similar_method(spec: CheckSpec) -> str:
    """How a `similar` check compares: "embedding" (the default) or a lexical method."""
    return str(spec.options.get("method", EMBEDDING_METHOD))


def similarity_reference(spec: CheckSpec, context: CheckContext) -> str:
    """The text a `similar` check compares with: its value (rendered with the case's
    variables) or the case's golden answer. CheckError or TemplateError when there is none."""
    validate_check(spec)
    return _reference(_rendered(spec, context), context)


def similar_result(spec: CheckSpec, score: float, detail: str) -> CheckResult:
    """A `similar` check's outcome from a score computed elsewhere (an embedding cosine):
    passed at its threshold, then negated, as run_check does."""
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_SIMILARITY_THRESHOLD
    passed = score >= threshold
    detail = f"{detail} (threshold {threshold:g})"
    if spec.negate:
        passed, score, detail = not passed, 1.0 - score, f"not: {detail}"
    return _result(spec, passed, score, detail)


def _similar(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = _reference(spec, context)
    method = similar_method(spec)
    note = ""
    if method == EMBEDDING_METHOD:
        method = FALLBACK_SIMILARITY_METHOD
        note = f"; {context.embedding_unavailable}: lexical {method} used instead of embeddings"
    score = golden_similarity(output, reference, method=method)
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_SIMILARITY_THRESHOLD
    return score >= threshold, score, f"{method} {score:.3f} (threshold {threshold:g}{note})"


_EVALUATORS = {
    "equals": _equals,
    "contains": _contains,
    "icontains": _contains,
    "contains-any": _contains_any,
    "contains-all": _contains_all,
    "starts-with": _starts_with,
    "regex": _regex,
    "is-json": _is_json,
    "json-schema": _json_schema,
    "length": _length,
    "banned-phrases": _banned,
    "pii-present": _pii,
    "latency-le": _latency,
    "cost-le": _cost,
    "is-refusal": _refusal,
    "similar": _similar,
}


# -- refusals and PII -----------------------------------------------------------------------

# A refusal states inability or unwillingness about the request itself ("I can't help with
# that"), not any "I can't" ("I can't wait to help"): the verb list keeps those apart.
_REFUSAL = re.compile(
    r"\b(?:"
    r"I\s*(?:can\s*not|cannot|can't|won't|will\s+not|am\s+(?:not\s+able|unable)|'m\s+(?:not\s+able"
    r"|unable)|must\s+(?:decline|refuse))\s+(?:to\s+)?"
    r"(?:help|assist|provide|comply|do\s+that|fulfil|fulfill|share|answer|create|generate|write"
    r"|support|give|produce|engage|continue|disclose|reveal|discuss)"
    r"|I\s+(?:must|have\s+to)\s+(?:decline|refuse)"
    r"|as\s+an\s+AI(?:\s+language\s+model)?\b"
    r"|I'm\s+sorry,?\s+but\s+I"
    r"|I\s+apologi[sz]e,?\s+but\s+I"
    r"|(?:violates|against)\s+(?:my|our|the)\s+(?:guidelines|policies|policy|content\s+policy)"
    r")",
    re.IGNORECASE,
)

# A minimal detector (core/guard_output.py's fuller one was not available to this module when
# it was written): addresses, phone numbers of 9 to 15 digits, and card numbers that pass Luhn.
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{1,4}\)[\s.\-]?)?\d{2,4}(?:[\s.\-]?\d{2,4}){2,4}(?!\w)"
)
_PHONE_PUNCTUATION = re.compile(r"[\s.\-()]")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_CARD = re.compile(r"(?<!\d)\d(?:[ \-]?\d){12,18}(?!\d)")


def find_pii(text: str, kinds: Sequence[str] = PII_KINDS) -> list[str]:
    """The kind of each piece of PII found in text, in order, one entry per finding."""
    found: list[str] = []
    if "email" in kinds:
        found += ["email"] * len(_EMAIL.findall(text))
    cards = [match for match in _CARD.finditer(text) if _luhn_valid(_digits(match.group(0)))]
    if "credit_card" in kinds:
        found += ["credit_card"] * len(cards)
    if "phone" in kinds:
        card_spans = [match.span() for match in cards]
        for match in _PHONE.finditer(text):
            inside_card = any(start <= match.start() < end for start, end in card_spans)
            if not inside_card and _looks_like_phone(match.group(0)):
                found.append("phone")
    return found


def _looks_like_phone(candidate: str) -> bool:
    # A bare run of digits is more often an order or invoice number, and four dotted groups of
    # up to three digits an IP address.
    written_as_phone = candidate.startswith("+") or _PHONE_PUNCTUATION.search(candidate)
    return (
        bool(written_as_phone)
        and 9 <= len(_digits(candidate)) <= 15
        and not _IPV4.fullmatch(candidate)
    )


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _luhn_valid(number: str) -> bool:
    if not 13 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
