"""promptfoo assertions as llmbench checks: the ones core.evaluation has, the two it can only
approximate (said so in a note), and for every other type the reason it is not converted.

`assertion_from_string` reads the compact form of a CSV `__expected` column
(`[not-]type[(threshold)][:value]`, plus the legacy `fn:`, `eval:` and `grade:` prefixes;
text without a known type is an `equals`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data

# promptfoo types that are llmbench checks under the same name (parse_check reads them all).
DIRECT_TYPES = frozenset(
    {
        "equals",
        "contains",
        "icontains",
        "contains-any",
        "contains-all",
        "icontains-any",
        "icontains-all",
        "starts-with",
        "regex",
        "is-json",
        "latency",
        "cost",
        "is-refusal",
        "llm-rubric",
        "similar",
    }
)
_TEXT_TYPES = frozenset({"equals", "contains", "icontains", "starts-with"})
APPROXIMATE_TYPES = frozenset({"levenshtein", "rouge-n"})
_CODE_TYPES = {
    "javascript": "runs JavaScript",
    "python": "runs Python",
    "ruby": "runs Ruby",
    "webhook": "calls a webhook",
}
# Types promptfoo documents that llmbench has no check for; anything else is unknown.
_KNOWN_TYPES = frozenset(
    {
        "contains-json",
        "contains-html",
        "contains-sql",
        "contains-xml",
        "is-html",
        "is-sql",
        "is-xml",
        "is-valid-function-call",
        "is-valid-openai-function-call",
        "is-valid-openai-tools-call",
        "tool-call-f1",
        "finish-reason",
        "word-count",
        "perplexity",
        "perplexity-score",
        "bleu",
        "gleu",
        "meteor",
        "f-score",
        "classifier",
        "moderation",
        "guardrails",
        "pi",
        "select-best",
        "max-score",
        "assert-set",
        "model-graded-closedqa",
        "model-graded-factuality",
        "factuality",
        "answer-relevance",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "conversation-relevance",
        "g-eval",
        "agent-rubric",
        "search-rubric",
        "trace-span-count",
        "trace-span-duration",
        "trace-error-spans",
    }
)
# Assertion fields that change what is checked: the assertion cannot be converted with them.
_BLOCKING_FIELDS = {"transform": "transforms the output with code", "contextTransform": "runs code"}
_KEPT_FIELDS = frozenset({"type", "value", "threshold", "weight", "metric"})
DEFAULT_LEVENSHTEIN_DISTANCE = 5  # promptfoo's default threshold for `levenshtein`
DEFAULT_ROUGE_THRESHOLD = 0.75
_COMPACT = re.compile(
    r"^(?P<not>not-)?(?P<type>[a-z][a-z0-9-]*)(?:\((?P<threshold>[0-9.]+)\))?(?::(?P<value>.*))?$",
    re.DOTALL,
)
_LEGACY_PREFIXES = {"fn:": "javascript", "eval:": "javascript", "grade:": "llm-rubric"}


class Unconvertible(Exception):
    """This assertion (or a value it names) cannot be converted; the message says why."""


@dataclass(frozen=True)
class Converted:
    check: dict[str, Any]  # the suite's form: type, value, negate, weight, threshold, labels
    notes: tuple[str, ...] = ()  # approximations and fields left out
    grader: str | None = None  # an llm-rubric's own grading provider, as written


def assertion_type(data: Mapping[str, Any]) -> str:
    name = data.get("type")
    return name if isinstance(name, str) else "?"


def convert_assertion(
    data: Mapping[str, Any], load_value: Callable[[str], Any] | None = None
) -> Converted:
    """The llmbench check for one promptfoo assertion; Unconvertible says why there is none.
    `load_value` reads a `file://` value (relative to the file that names it)."""
    name = data.get("type")
    if not isinstance(name, str) or not name.strip():
        raise Unconvertible("an assertion needs a type")
    negate = name.startswith("not-")
    base = name[len("not-") :] if negate else name
    for key, why in _BLOCKING_FIELDS.items():
        if key in data:
            raise Unconvertible(f"its {key} {why}")
    if base in _CODE_TYPES:
        raise Unconvertible(_CODE_TYPES[base])
    if base not in DIRECT_TYPES | APPROXIMATE_TYPES:
        if base in _KNOWN_TYPES:
            raise Unconvertible("llmbench has no such check")
        raise Unconvertible("not a promptfoo assertion type llmbench knows")
    notes = [f"field {key!r} left out" for key in data if key not in _KEPT_FIELDS]
    grader = data.get("provider") if base == "llm-rubric" else None
    if grader is not None:
        notes = [note for note in notes if note != "field 'provider' left out"]
        grader = _provider_id(grader)
    value = data.get("value")
    if isinstance(value, str) and value.startswith("file://"):
        if load_value is None:
            raise Unconvertible("its value is a file:// reference")
        value = load_value(value)
    if base in _TEXT_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # promptfoo compares numbers as their text
    fields: dict[str, Any] = {"type": name}
    if value is not None:
        fields["value"] = value
    for key in ("threshold", "weight", "metric"):
        if key in data:
            fields[key] = data[key]
    if base == "levenshtein":
        fields, note = _levenshtein(fields, negate)
        notes.append(note)
    elif base == "rouge-n":
        fields["type"] = "not-similar" if negate else "similar"
        fields["method"] = "rouge-l"
        fields.setdefault("threshold", DEFAULT_ROUGE_THRESHOLD)
        notes.append("rouge-n is checked as ROUGE-L F1 (llmbench has no ROUGE-N recall)")
    elif base == "similar":
        notes.append(
            "embedding similarity needs [models] embedding_model; without one llmbench "
            "checks ROUGE-L instead and says so"
        )
    if base in ("contains-any", "contains-all", "icontains-any", "icontains-all") and isinstance(
        fields.get("value"), str
    ):
        fields["value"] = [part.strip() for part in fields["value"].split(",") if part.strip()]
    try:
        spec = parse_check(fields)
    except CheckError as error:
        raise Unconvertible(str(error)) from None
    check = check_to_data(spec)
    check = {"type": check.pop("kind"), **check}
    return Converted(check, tuple(notes), grader)


def _levenshtein(fields: dict[str, Any], negate: bool) -> tuple[dict[str, Any], str]:
    """promptfoo passes when the edit distance is at most `threshold` characters; llmbench's
    levenshtein similarity is 1 - distance / longer length. With the golden text's length as
    the longer one, distance <= t is similarity >= 1 - t / len: exact when the output is no
    longer than the golden text, more lenient when it is."""
    value = fields.get("value")
    if not isinstance(value, str) or not value:
        raise Unconvertible("levenshtein needs the golden text as its value")
    if "{{" in value or "{%" in value:
        raise Unconvertible("levenshtein against a template: its length is not known")
    limit = fields.pop("threshold", DEFAULT_LEVENSHTEIN_DISTANCE)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
        raise Unconvertible("levenshtein's threshold must be a distance (0 or more)")
    fields["type"] = "not-similar" if negate else "similar"
    fields["method"] = "levenshtein"
    fields["threshold"] = round(max(0.0, 1.0 - limit / len(value)), 6)
    note = (
        f"levenshtein distance <= {limit:g} is checked as similarity >= "
        f"{fields['threshold']:g} (exact unless the output is longer than the golden text)"
    )
    return fields, note


def _provider_id(provider: Any) -> str:
    if isinstance(provider, str):
        return provider
    if isinstance(provider, Mapping) and isinstance(provider.get("id"), str):
        return str(provider["id"])
    raise Unconvertible("its grading provider must be an id or {id: ...}")


def assertion_from_string(text: str) -> dict[str, Any]:
    """The assertion a CSV `__expected` cell stands for."""
    stripped = text.strip()
    for prefix, name in _LEGACY_PREFIXES.items():
        if stripped.startswith(prefix):
            return {"type": name, "value": stripped[len(prefix) :].strip()}
    match = _COMPACT.match(stripped)
    if match is not None:
        base = match["type"]
        if base in DIRECT_TYPES | APPROXIMATE_TYPES | _KNOWN_TYPES | set(_CODE_TYPES):
            data: dict[str, Any] = {"type": f"{match['not'] or ''}{base}"}
            if match["value"] is not None:
                value = match["value"].strip()
                if base in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
                    data["value"] = [part.strip() for part in value.split(",") if part.strip()]
                elif value or base not in ("is-json", "is-refusal"):
                    data["value"] = value
            if match["threshold"] is not None:
                try:
                    data["threshold"] = float(match["threshold"])
                except ValueError:
                    raise Unconvertible(f"{match['threshold']!r} is not a threshold") from None
            return data
    return {"type": "equals", "value": text}
