"""promptfoo assertions as llmbench checks.

An assertion converts when `parse_check` (core.evaluation) accepts it as written: its type (or
`not-` type), value, threshold, weight, metric and the kind's own fields. The check kinds are
asked, never listed here, so a kind core.evaluation gains converts from then on. An assertion
that does not convert says why: llmbench has no such check (and what it would need), or the
field parse_check refuses, or a `contextTransform` (the context a model-graded check reads is
not reshaped). Nothing is approximated silently. An assertion's `transform` is the check's own
(core.evaluation.transform_spec), its file made absolute like a script's.

`assertion_from_string` reads a CSV `__expected` cell as promptfoo's `assertionFromString`
does (promptfoo 0.123.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data
from llmbench.core.evaluation.transform_spec import transform_source

# promptfoo's assertion types (0.123.1: BaseAssertionTypes, the special ones, assert-set).
PROMPTFOO_TYPES: tuple[str, ...] = (
    "agent-rubric", "answer-relevance", "bleu", "classifier", "contains", "contains-all",
    "contains-any", "contains-html", "contains-json", "contains-sql", "contains-xml",
    "context-faithfulness", "context-recall", "context-relevance", "conversation-relevance",
    "cost", "equals", "factuality", "finish-reason", "g-eval", "gleu", "guardrails",
    "icontains", "icontains-all", "icontains-any", "is-html", "is-json", "is-refusal", "is-sql",
    "is-valid-function-call", "is-valid-openai-function-call", "is-valid-openai-tools-call",
    "is-xml", "javascript", "latency", "levenshtein", "llm-rubric", "pi", "meteor",
    "model-graded-closedqa", "model-graded-factuality", "moderation", "perplexity",
    "perplexity-score", "python", "regex", "rouge-n", "ruby", "similar", "similar:cosine",
    "similar:dot", "similar:euclidean", "starts-with", "tool-call-f1", "skill-used",
    "trajectory:goal-success", "trajectory:tool-args-match", "trajectory:step-count",
    "trajectory:tool-sequence", "trajectory:tool-used", "trace-error-spans", "trace-span-count",
    "trace-span-duration", "search-rubric", "webhook", "word-count",
    "select-best", "human", "max-score", "assert-set",
)  # fmt: skip
# Why llmbench has no check for a promptfoo type (used when parse_check refuses the type).
WHY_NOT: dict[str, str] = {
    "ruby": "runs Ruby code",
    "webhook": "sends the output to a URL",
    "is-html": "llmbench has no HTML validator",
    "contains-html": "llmbench has no HTML validator",
    "finish-reason": "an eval cell keeps no finish reason",
    "perplexity": "needs the provider's log-probabilities, which llmbench does not keep",
    "perplexity-score": "needs the provider's log-probabilities, which llmbench does not keep",
    "classifier": "runs a HuggingFace classifier model",
    "moderation": "calls a moderation API",
    "guardrails": "reads a provider's guardrail verdict, which llmbench does not keep",
    "pi": "calls Prompt Security's API",
    "gleu": "llmbench has no GLEU score",
    "meteor": "llmbench has no METEOR score (it needs WordNet)",
    "similar:dot": "llmbench's similar check compares by cosine only",
    "similar:euclidean": "llmbench's similar check compares by cosine only",
    "trajectory:goal-success": "reads an agent's trajectory, which llmbench does not record",
    "trajectory:tool-args-match": "reads an agent's trajectory, which llmbench does not record",
    "trajectory:step-count": "reads an agent's trajectory, which llmbench does not record",
    "trajectory:tool-sequence": "reads an agent's trajectory, which llmbench does not record",
    "trajectory:tool-used": "reads an agent's trajectory, which llmbench does not record",
    "conversation-relevance": "llmbench runs single-turn cells",
    "agent-rubric": "grades an agent's trace, which llmbench does not record",
    "search-rubric": "grades with a web-searching judge",
    "skill-used": "reads an agent's skill use, which llmbench does not record",
    "trace-span-count": "reads OpenTelemetry traces, which llmbench does not record",
    "trace-span-duration": "reads OpenTelemetry traces, which llmbench does not record",
    "trace-error-spans": "reads OpenTelemetry traces, which llmbench does not record",
    "human": "a human rating in promptfoo's viewer: grade outputs in llmbench's F4 instead",
    "max-score": "picks the best output across prompts by their scores",
    "word-count": "llmbench has no word-count check (its length check counts characters or tokens)",
}
# Code that runs: not a check unless parse_check has the kind (python, javascript).
_CODE_TYPES = frozenset({"python", "javascript", "ruby"})
_TEXT_TYPES = frozenset({"equals", "contains", "icontains", "starts-with"})
_LIST_TYPES = frozenset({"contains-any", "contains-all", "icontains-any", "icontains-all"})
_UNSUPPORTED_TYPE = "this check type is not supported"  # parse_check's refusal of a type
# Fields that reshape what a check reads and have no place in a check.
TRANSFORM_FIELDS = ("contextTransform",)
_COMPACT = re.compile(
    r"^(not-)?("
    + "|".join(re.escape(name) for name in PROMPTFOO_TYPES if name not in ("assert-set",))
    + r")(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$"
)
# assertionFromString's defaults for these types when a CSV cell gives no threshold.
_THRESHOLD_DEFAULTS = {
    "answer-relevance", "classifier", "context-faithfulness", "context-recall",
    "context-relevance", "cost", "latency", "levenshtein", "perplexity-score", "perplexity",
    "rouge-n", "starts-with",
}  # fmt: skip
_CSV_SIMILAR_THRESHOLD = 0.8  # promptfoo's DEFAULT_SEMANTIC_SIMILARITY_THRESHOLD
_CSV_THRESHOLD = 0.75
FILE_PREFIX = "file://"
_SCRIPT_SUFFIXES = (".js", ".cjs", ".mjs", ".ts", ".cts", ".mts", ".tsx", ".jsx")


class Unconvertible(Exception):
    """This assertion (or a value it names) cannot be converted; the message says why."""


@dataclass(frozen=True)
class Converted:
    check: dict[str, Any]  # the suite's form: type, value, negate, weight, threshold, labels
    notes: tuple[str, ...] = ()  # what the check does differently, said beside it
    grader: str | None = None  # a graded assertion's own grading provider, as written


def assertion_type(data: Mapping[str, Any]) -> str:
    name = data.get("type")
    return name if isinstance(name, str) else "?"


def _checked_name(name: str) -> str:
    """The type parse_check is asked about: promptfoo's `similar:cosine` is its `similar`."""
    negate = "not-" if name.startswith("not-") else ""
    return negate + "similar" if name.removeprefix("not-") == "similar:cosine" else name


def check_type_exists(name: str) -> bool:
    """Whether parse_check has a kind for this (promptfoo) type name, whatever its fields."""
    try:
        parse_check({"type": _checked_name(name)})
    except CheckError as error:
        return _UNSUPPORTED_TYPE not in str(error)
    return True


def why_not_converted(name: str) -> str:
    base = name.removeprefix("not-")
    if base in WHY_NOT:
        return WHY_NOT[base]
    if base in _CODE_TYPES:
        return f"llmbench has no {base} check"
    if base in PROMPTFOO_TYPES:
        return f"llmbench has no {base} check"
    return "not a promptfoo assertion type"


def convert_assertion(
    data: Mapping[str, Any],
    load_value: Callable[[str], Any] | None = None,
    code_base: Path | None = None,
) -> Converted:
    """The llmbench check for one promptfoo assertion; Unconvertible says why there is none.
    `load_value` reads a `file://` value (relative to the file that names it); a script's
    `file://` value is a reference to code, left for the check to run, made absolute against
    `code_base`, the config's folder (the suite writer makes it relative to the suite again)."""
    name = data.get("type")
    if not isinstance(name, str) or not name.strip():
        raise Unconvertible("an assertion needs a type")
    if _checked_name(name) != name:  # `similar` is cosine already
        name = _checked_name(name)
        data = {**data, "type": name}
    base = name.removeprefix("not-")
    for key in TRANSFORM_FIELDS:
        if key in data:
            raise Unconvertible(
                f"its {key} ({_shown(data[key])}) reshapes the context a model-graded check"
                " reads; llmbench's checks read the case's `context` variable as it is"
            )
    if not check_type_exists(name):
        raise Unconvertible(why_not_converted(name))
    fields = dict(data)
    grader = None
    if "provider" in fields:
        grader = _provider_id(fields.pop("provider"))
    value = fields.get("value")
    code = base in _CODE_TYPES
    if isinstance(value, str) and value.startswith(FILE_PREFIX) and not code:
        if load_value is None:
            raise Unconvertible("its value is a file:// reference")
        fields["value"] = load_value(value)
    value = fields.get("value")
    if base in _TEXT_TYPES and isinstance(value, int | float) and not isinstance(value, bool):
        fields["value"] = _js_number(value)  # promptfoo compares numbers as their text
    if base in _LIST_TYPES and isinstance(value, str):
        fields["value"] = comma_separated(value)  # promptfoo splits a text value on commas
    elif base in _LIST_TYPES and isinstance(value, list):
        fields["value"] = [
            _js_number(item)
            if isinstance(item, int | float) and not isinstance(item, bool)
            else item
            for item in value
        ]
    try:
        spec = parse_check(fields)
    except CheckError as error:
        raise Unconvertible(str(error)) from None
    check = check_to_data(spec)
    check = {"type": check.pop("kind"), **check}
    if code and code_base is not None and isinstance(value, str) and value.startswith(FILE_PREFIX):
        check["value"] = _absolute_script(value, code_base)
    transform = check.get("transform")
    if code_base is not None and isinstance(transform, str) and transform.startswith(FILE_PREFIX):
        check["transform"] = absolute_transform(transform, code_base)
    notes = []
    if base == "similar":
        notes.append(
            "embedding similarity needs [models] embedding_model; without one llmbench "
            "checks ROUGE-L instead and says so"
        )
    return Converted(check, tuple(notes), grader)


def _absolute_script(reference: str, base: Path) -> str:
    """A script's `file://path[:function]` with its path made absolute (promptfoo reads it
    relative to the config's folder)."""
    path, colon, function = reference[len(FILE_PREFIX) :].partition(":")
    if len(path) == 1 and colon:  # a Windows drive letter, not a function name
        drive, _, function = function.partition(":")
        path = f"{path}:{drive}"
    return FILE_PREFIX + str((base / path).resolve()) + (f":{function}" if function else "")


def absolute_transform(reference: str, base: Path) -> str:
    """A transform's `file://path[:function]` with its path made absolute (promptfoo reads it
    relative to the config's folder); inline code as it is."""
    if not reference.startswith(FILE_PREFIX):
        return reference
    source = transform_source(reference)
    function = reference[len(FILE_PREFIX) + len(source.path) :]  # ":name" or ""
    return FILE_PREFIX + str((base / source.path).resolve()) + function


def _js_number(value: int | float) -> str:
    """A number as JavaScript writes it (String(1.0) is "1")."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _shown(value: Any) -> str:
    text = str(value).strip().replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _provider_id(provider: Any) -> str:
    if isinstance(provider, str):
        return provider
    if isinstance(provider, Mapping) and isinstance(provider.get("id"), str):
        return str(provider["id"])
    raise Unconvertible("its grading provider must be an id or {id: ...}")


def assertion_from_string(text: str) -> dict[str, Any]:
    """The assertion a CSV `__expected` cell stands for, as promptfoo reads it."""
    if text.startswith(("javascript:", "fn:", "eval:")) or (
        text.startswith("file://")
        and text[len("file://") :].split(":")[0].endswith(_SCRIPT_SUFFIXES)
    ):
        prefix = next((p for p in ("javascript:", "fn:", "eval:") if text.startswith(p)), "")
        return {"type": "javascript", "value": text[len(prefix) :].strip()}
    if text.startswith(("grade:", "llm-rubric:")):
        prefix = "grade:" if text.startswith("grade:") else "llm-rubric:"
        return {"type": "llm-rubric", "value": text[len(prefix) :]}
    if text.startswith("python:") or (
        text.startswith("file://") and (text.endswith(".py") or ".py:" in text)
    ):
        prefix = "python:" if text.startswith("python:") else ""
        return {"type": "python", "value": text[len(prefix) :].strip()}
    match = _COMPACT.match(text)
    if match is None:
        return {"type": "equals", "value": text}
    negate, base, threshold_text, value = match.groups()
    data: dict[str, Any] = {"type": f"{negate or ''}{base}"}
    threshold = float(threshold_text) if threshold_text is not None else None
    if base in _LIST_TYPES:
        if value is not None:
            data["value"] = comma_separated(value)
        return data
    if base in ("contains-json", "is-json"):
        if value is not None:
            data["value"] = value
        return data
    if value is not None:
        data["value"] = value.strip()
    if base == "similar" or base in _THRESHOLD_DEFAULTS:
        default = _CSV_SIMILAR_THRESHOLD if base == "similar" else _CSV_THRESHOLD
        data["threshold"] = threshold if threshold is not None else default
    return data


def comma_separated(value: str) -> list[str]:
    """promptfoo's parseCommaSeparatedAssertionValues: fields split on commas, whitespace around
    them dropped; a field in double quotes may hold commas (`""` or `\\"` is a quote in it)."""
    fields: list[str] = []
    index = 0
    while index < len(value):
        while index < len(value) and (value[index] == "," or value[index].isspace()):
            index += 1
        if index >= len(value):
            break
        if value[index] != '"':
            end = value.find(",", index)
            end = len(value) if end == -1 else end
            fields.append(value[index:end].strip())
            index = end
            continue
        field, index = _quoted_field(value, index + 1)
        fields.append(field)
        while index < len(value) and value[index].isspace():
            index += 1
        if index < len(value) and value[index] != ",":
            raise Unconvertible("a quoted phrase must be followed by a comma")
    return fields


def _quoted_field(value: str, index: int) -> tuple[str, int]:
    field: list[str] = []
    while index < len(value):
        char, following = value[index], value[index + 1 : index + 2]
        if (char == "\\" and following in ('"', "\\")) or (char == '"' and following == '"'):
            field.append(following)
            index += 2
        elif char == '"':
            return "".join(field), index + 1
        else:
            field.append(char)
            index += 1
    raise Unconvertible("a quoted phrase is not closed")
