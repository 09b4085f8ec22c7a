"""What each check kind computes on an output: one function per kind (in `EVALUATORS`), each
giving (passed, score, detail) for a spec already validated and rendered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from llmbench.core.evaluation.check_spec import (
    DEFAULT_SIMILARITY_THRESHOLD,
    EMBEDDING_METHOD,
    FALLBACK_SIMILARITY_METHOD,
    CheckContext,
    CheckError,
    CheckSpec,
)
from llmbench.core.evaluation.check_values import (
    as_number,
    as_phrases,
    as_text,
    compile_pattern,
    json_text,
    length_bounds,
    pii_kinds,
)
from llmbench.core.evaluation.json_schema import json_type, schema_errors, schema_value
from llmbench.core.evaluation.reference_metrics import (
    DEFAULT_BLEU_THRESHOLD,
    DEFAULT_LEVENSHTEIN_DISTANCE,
    DEFAULT_ROUGE_THRESHOLD,
    bleu,
    levenshtein,
    rouge_n,
)
from llmbench.core.evaluation.refusal_and_pii import REFUSAL_PATTERN, find_pii
from llmbench.core.evaluation.similarity import golden_similarity
from llmbench.core.evaluation.sql_checks import contains_sql, is_sql
from llmbench.core.evaluation.structured_checks import (
    contains_json,
    contains_xml,
    is_xml,
    required_elements,
)
from llmbench.core.evaluation.tool_checks import TOOL_EVALUATORS
from llmbench.core.tokens import count_tokens


def _binary(passed: bool, detail: str) -> tuple[bool, float, str]:
    return passed, float(passed), detail


def reference_text(spec: CheckSpec, context: CheckContext) -> str:
    if spec.value is None:
        if context.expected is None:
            raise CheckError("no value and the case has no expected answer")
        return context.expected
    return as_text(spec.value, "")


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _equals(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    if isinstance(spec.value, Mapping | list | tuple):
        wanted = json.loads(json_text(spec.value, ""))
        parsed = load_json(output)
        if isinstance(parsed, str):
            return _binary(False, f"not JSON: {parsed}")
        same = _canonical(parsed[0]) == _canonical(wanted)
        return _binary(same, "same JSON" if same else "different JSON")
    reference = reference_text(spec, context)
    same = output.strip() == reference.strip()
    return _binary(same, "equal" if same else f"expected {_short(reference.strip())}")


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _contains(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = reference_text(spec, context)
    if spec.kind == "icontains":
        found = reference.casefold() in output.casefold()
    else:
        found = reference in output
    return _binary(found, f"{'found' if found else 'missing'} {_short(reference)}")


def _starts_with(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    prefix = as_text(spec.value, "")
    starts = output.lstrip().startswith(prefix)
    return _binary(starts, f"{'starts' if starts else 'does not start'} with {_short(prefix)}")


def _found_phrases(spec: CheckSpec, output: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    phrases = as_phrases(spec.value, "")
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
    pattern = as_text(spec.value, "")
    compiled = compile_pattern(pattern, bool(spec.options.get("ignore_case", False)), "")
    matched = compiled.search(output) is not None
    return _binary(matched, f"/{pattern}/ {'matched' if matched else 'no match'}")


def load_json(output: str) -> tuple[object] | str:
    """(the parsed value,) or why output is not JSON."""
    try:
        return (json.loads(output),)
    except RecursionError:
        return "nested too deeply"
    except ValueError as error:
        return str(error.args[0]) if error.args else "invalid"


def _is_json(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    parsed = load_json(output)
    if isinstance(parsed, str):
        return _binary(False, f"not JSON: {parsed}")
    return _binary(True, f"JSON {json_type(parsed[0])}")


def _json_schema(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    parsed = load_json(output)
    if isinstance(parsed, str):
        return _binary(False, f"not JSON: {parsed}")
    try:
        errors = schema_errors(parsed[0], schema_value(spec.value, ""))
    except RecursionError:
        return _binary(False, "nested too deeply to validate")
    if not errors:
        return _binary(True, "matches the schema")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return _binary(False, errors[0] + more)


def _length(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    low, high = length_bounds(spec.options, "")
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
    limit = as_number(spec.value, "value", "")
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
    kinds = pii_kinds(spec.options.get("kinds"), "")
    found = find_pii(output, kinds)
    if not found:
        return _binary(False, "no PII found")
    return _binary(True, "found " + ", ".join(sorted(set(found))))


def _refusal(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    if not output.strip():
        return _binary(True, "empty output")
    match = REFUSAL_PATTERN.search(output.replace("’", "'"))
    if match is None:
        return _binary(False, "not a refusal")
    return _binary(True, f"refusal: {_short(match.group(0))}")


def similar_method(spec: CheckSpec) -> str:
    """How a `similar` check compares: "embedding" (the default) or a lexical method."""
    return str(spec.options.get("method", EMBEDDING_METHOD))


def _similar(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = reference_text(spec, context)
    method = similar_method(spec)
    note = ""
    if method == EMBEDDING_METHOD:
        method = FALLBACK_SIMILARITY_METHOD
        note = f"; {context.embedding_unavailable}: lexical {method} used instead of embeddings"
    score = golden_similarity(output, reference, method=method)
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_SIMILARITY_THRESHOLD
    return score >= threshold, score, f"{method} {score:.3f} (threshold {threshold:g}{note})"


def _contains_json(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    return _binary(*contains_json(output, spec.value))


def _xml(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    check = is_xml if spec.kind == "is-xml" else contains_xml
    return _binary(*check(output, required_elements(spec.value, "")))


def _sql(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    check = is_sql if spec.kind == "is-sql" else contains_sql
    return _binary(*check(output, spec.value))


def _rouge_n(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = reference_text(spec, context)
    try:
        score = rouge_n(output, reference)
    except ValueError as error:
        return False, 0.0, f"ROUGE-N cannot score: {error}"
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_ROUGE_THRESHOLD
    return score >= threshold, score, f"ROUGE-N {score:.3f} (threshold {threshold:g})"


def _bleu(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    if isinstance(spec.value, tuple | list):
        references = [as_text(item, "") for item in spec.value]
    else:
        references = [reference_text(spec, context)]
    score = bleu(output, references)
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_BLEU_THRESHOLD
    return score >= threshold, score, f"BLEU {score:.4f} (threshold {threshold:g})"


def _levenshtein(spec: CheckSpec, output: str, context: CheckContext) -> tuple[bool, float, str]:
    reference = reference_text(spec, context)
    limit = spec.threshold if spec.threshold is not None else DEFAULT_LEVENSHTEIN_DISTANCE
    distance = levenshtein(output, reference)
    return _binary(distance <= limit, f"edit distance {distance} (at most {limit:g})")


EVALUATORS = {
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
    "contains-json": _contains_json,
    "is-xml": _xml,
    "contains-xml": _xml,
    "is-sql": _sql,
    "contains-sql": _sql,
    "rouge-n": _rouge_n,
    "bleu": _bleu,
    "levenshtein": _levenshtein,
    **TOOL_EVALUATORS,
}
