"""promptfoo's structured-output checks, with its rules: `contains-json` (some `{...}` in the
output parses, auto-closing the braces a cut-off answer left open, as promptfoo's
extractJsonObjects does; with a schema, one of them must match it), `is-xml` (the whole output
is one well-formed XML document, a DTD internal subset refused as promptfoo refuses it) and
`contains-xml` (some balanced element of the output parses), both with `requiredElements`
paths (`root.child.leaf`, from the root element down), and the SQL value reader `sql_options`.

A `{...}` is read as JSON, then as a YAML flow mapping, since promptfoo reads it with js-yaml
(`{name: "x"}` counts). XML is parsed by the standard library's expat, which never fetches an
external entity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from xml.parsers import expat

from llmbench.core.evaluation.check_spec import CheckError, thaw
from llmbench.core.evaluation.json_schema import schema_errors

MAX_JSON_CANDIDATE = 100_000  # promptfoo's maxJsonLength: a `{` is read this far at most
MAX_XML_CANDIDATES = 200
MAX_XML_PATH_DEPTH = 32
# promptfoo tries every `{`; an output of thousands of unclosed braces would cost seconds, so
# at most this many candidates are parsed, and only short ones as YAML.
MAX_JSON_ATTEMPTS = 64
MAX_YAML_CANDIDATE = 10_000


def _closing_braces(text: str) -> dict[int, int]:
    """Where each `{` of text is closed (counting braces only, as promptfoo does)."""
    closes: dict[int, int] = {}
    open_at: list[int] = []
    for index, char in enumerate(text):
        if char == "{":
            open_at.append(index)
        elif char == "}" and open_at:
            closes[open_at.pop()] = index
    return closes


def json_objects(text: str) -> list[object]:
    """Every JSON (or YAML flow) object in text, left to right, as promptfoo extracts them: from
    each `{` to its closing brace, or, when it is never closed, to the end with the missing
    braces added."""
    found: list[object] = []
    closes = _closing_braces(text)
    index = text.find("{")
    attempts = 0
    while index != -1 and attempts < MAX_JSON_ATTEMPTS:
        close = closes.get(index)
        if close is not None and close < index + MAX_JSON_CANDIDATE:
            candidate = text[index : close + 1]
        else:
            body = text[index : index + MAX_JSON_CANDIDATE]
            candidate = body + "}" * (body.count("{") - body.count("}"))
        attempts += 1
        parsed = _object(candidate)
        if parsed is not None:
            found.append(parsed)
            index = text.find(
                "{", index + len(candidate.rstrip("}")) if close is None else close + 1
            )
        else:
            index = text.find("{", index + 1)
    return found


def _object(candidate: str) -> object:
    try:
        value = json.loads(candidate)
    except (ValueError, RecursionError):
        value = _yaml_flow(candidate) if len(candidate) <= MAX_YAML_CANDIDATE else None
    return value if isinstance(value, dict | list) and value is not None else None


def _yaml_flow(candidate: str) -> object:
    import yaml  # imported when the strict JSON reading failed: a check of a few outputs

    try:
        return yaml.safe_load(_without_slash_comments(candidate))
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def _without_slash_comments(text: str) -> str:
    """`// comment` to `# comment` outside quotes (promptfoo lets a JSON object carry them)."""
    return re.sub(r'("(?:[^"\\\n]|\\.)*")|(?<!:)//', lambda m: m.group(1) or "#", text)


def contains_json(output: str, schema: object) -> tuple[bool, str]:
    objects = json_objects(output)
    if not objects:
        return False, "no JSON object in the output"
    if schema is None:
        return True, f"{len(objects)} JSON object{'s' if len(objects) != 1 else ''} found"
    first_error = ""
    for value in objects:
        try:
            errors = schema_errors(value, thaw(schema))
        except RecursionError:
            errors = ["nested too deeply to validate"]
        if not errors:
            return True, "a JSON object matches the schema"
        first_error = first_error or errors[0]
    return False, f"no JSON object matches the schema: {first_error}"


# -- XML --------------------------------------------------------------------------------------


def required_elements(value: object, prefix: str) -> tuple[str, ...]:
    """promptfoo's XML value: "a.b, c", a list, or {requiredElements: [...]}; none is ()."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Mapping):
        items = value.get("requiredElements")
        if set(value) != {"requiredElements"} or not isinstance(items, Sequence):
            raise CheckError(f"{prefix}value must be element paths or {{requiredElements: [...]}}")
        value = items
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(str(item).strip() for item in value if str(item).strip())
    raise CheckError(f"{prefix}value must be element paths (a.b.c), a list or a mapping")


class _Tree:
    """The element paths of a parsed document, from the root down (root.child.leaf)."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.stack: list[str] = []

    def start(self, name: str, attributes: object) -> None:
        self.stack.append(name)
        # A required path names a few levels: deeper ones are not kept (joining every path of
        # a 20,000-deep document would cost seconds).
        if len(self.stack) <= MAX_XML_PATH_DEPTH:
            self.paths.add(".".join(self.stack))

    def end(self, name: str) -> None:
        self.stack.pop()


def parse_xml(text: str, *, whole: bool) -> tuple[set[str] | None, str]:
    """(the element paths, "") for well-formed XML, else (None, why)."""
    parser = expat.ParserCreate()
    tree = _Tree()
    parser.StartElementHandler = tree.start
    parser.EndElementHandler = tree.end
    internal_subset: list[bool] = []

    def doctype(name: str, system_id: object, public_id: object, has_internal: int) -> None:
        internal_subset.append(bool(has_internal))

    parser.StartDoctypeDeclHandler = doctype
    # Entities are never expanded from outside the text (expat reads no external entity).
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        # Bytes, so a lone surrogate in a model's output is a parse error, not a crash.
        parser.Parse((text.strip() if whole else text).encode("utf-8", "replace"), True)
    except expat.ExpatError as error:
        return None, f"XML parsing failed: {expat.ErrorString(error.code)} at line {error.lineno}"
    if any(internal_subset):
        return None, "DTD internal subsets are not supported"
    return tree.paths, ""


def missing_elements(paths: set[str], required: Sequence[str]) -> list[str]:
    return [element for element in required if element not in paths]


def is_xml(output: str, required: Sequence[str]) -> tuple[bool, str]:
    paths, problem = parse_xml(output, whole=True)
    if paths is None:
        return False, problem
    missing = missing_elements(paths, required)
    if missing:
        return False, f"XML is missing required elements: {', '.join(missing)}"
    return True, "well-formed XML" + (" with every required element" if required else "")


_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)[^<>]*?(/?)>")


def xml_candidates(output: str) -> list[str]:
    """The balanced elements of output (an opening tag to its closing tag, or a self-closing
    tag), outermost first."""
    stack: list[tuple[str, int]] = []
    spans: list[tuple[int, int]] = []
    for match in _TAG.finditer(output):
        closing, name, self_closing = match.group(1), match.group(2), match.group(3)
        if closing:
            if stack and stack[-1][0] == name:
                _, start = stack.pop()
                spans.append((start, match.end()))
            else:
                stack.clear()
        elif self_closing:
            spans.append((match.start(), match.end()))
        else:
            stack.append((name, match.start()))
    spans.sort(key=lambda span: (span[0], -span[1]))
    return [output[start:end] for start, end in spans[:MAX_XML_CANDIDATES]]


def contains_xml(output: str, required: Sequence[str]) -> tuple[bool, str]:
    candidates = xml_candidates(output)
    if not candidates:
        return False, "no XML content found in the output"
    for candidate in candidates:
        paths, _ = parse_xml(candidate, whole=False)
        if paths is not None and not missing_elements(paths, required):
            return True, "contains well-formed XML" + (
                " with every required element" if required else ""
            )
    return False, "no valid XML content found matching the requirements"
