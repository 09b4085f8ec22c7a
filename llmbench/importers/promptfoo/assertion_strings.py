"""promptfoo's one-cell assertion strings (`contains: refund`, `not-icontains: sorry`,
`similar(0.9): text`, `is-json`) to llmbench checks and back.

In a promptfoo CSV an `__expected` cell holds one assertion, `type[(threshold)][: value]`, with
`not-` in front to negate; a cell that names no assertion type is promptfoo's `equals`, and here
the case's golden answer. Forms that would run code (`javascript:`, `python:`, `file://...`) or
that llmbench has no check for (`rouge-n`, `moderation`, ...) are refused by name: a check is
never silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data
from llmbench.importers.bounds import load_json

# promptfoo's assertion types (its BaseAssertionTypes): a cell naming one is an assertion.
PROMPTFOO_TYPES: tuple[str, ...] = (
    "answer-relevance", "bleu", "classifier", "contains", "contains-all", "contains-any",
    "contains-html", "contains-json", "contains-sql", "contains-xml", "context-faithfulness",
    "context-recall", "context-relevance", "conversation-relevance", "cost", "equals",
    "factuality", "finish-reason", "g-eval", "gleu", "guardrails", "human", "icontains",
    "icontains-all", "icontains-any", "is-html", "is-json", "is-refusal", "is-sql",
    "is-valid-function-call", "is-valid-openai-function-call", "is-valid-openai-tools-call",
    "is-xml", "javascript", "latency", "levenshtein", "llm-rubric", "meteor",
    "model-graded-closedqa", "model-graded-factuality", "moderation", "perplexity",
    "perplexity-score", "pi", "python", "regex", "rouge-l", "rouge-n", "rouge-s", "ruby",
    "select-best", "similar", "starts-with", "tool-call-f1", "webhook",
)  # fmt: skip
# The ones llmbench's checks (core.evaluation) can run.
CONVERTIBLE: frozenset[str] = frozenset(
    {
        "contains", "contains-all", "contains-any", "cost", "equals", "icontains",
        "icontains-all", "icontains-any", "is-json", "is-refusal", "latency", "llm-rubric",
        "regex", "similar", "starts-with",
    }
)  # fmt: skip
_LIST_TYPES = frozenset({"contains-all", "contains-any", "icontains-all", "icontains-any"})
_LIMIT_TYPES = frozenset({"latency", "cost"})
# Prefixes promptfoo reads before its grammar: code, or (grade:) a rubric.
_CODE_PREFIXES = (("javascript:", "javascript"), ("fn:", "javascript"), ("eval:", "javascript"))
_FORM = re.compile(
    r"^(not-)?("
    + "|".join(re.escape(name) for name in sorted(PROMPTFOO_TYPES, key=len, reverse=True))
    + r")(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$"
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
# Our check kinds written under promptfoo's names, for export.
_EXPORT_NAMES = {"judge": "llm-rubric", "latency-le": "latency", "cost-le": "cost"}


class FormError(ValueError):
    """An assertion cell that names a form llmbench cannot convert; says which. `misread` is
    set when the cell may be prose that merely starts like an assertion (`cost: about $5`)."""

    def __init__(self, message: str, *, misread: bool = False) -> None:
        super().__init__(message)
        self.misread = misread


def check_from_form(text: str) -> dict[str, Any] | None:
    """The check (check_to_data's form) an assertion cell stands for, or None when the
    cell names no assertion (it is then a golden answer). Raises FormError or CheckError."""
    for prefix, kind in _CODE_PREFIXES:
        if text.startswith(prefix):
            raise FormError(
                f"{prefix!r} ({kind} code) cannot be converted: llmbench runs no code from a data"
                " file; write it as a check (contains, regex, is-json, llm-rubric, ...)"
            )
    if text.startswith("python:") or (text.startswith("file://") and ".py" in text):
        raise FormError("'python:' (Python code) cannot be converted: llmbench runs no code")
    if text.startswith("file://"):
        raise FormError(f"{text.split()[0]!r} (an external assertion file) cannot be converted")
    if text.startswith("grade:"):
        text = "llm-rubric:" + text[len("grade:") :]
    match = _FORM.match(text)
    if match is None:
        return None
    negate, name, threshold, raw = match.groups()
    if name not in CONVERTIBLE:
        raise FormError(
            f"promptfoo's {name!r} assertion has no llmbench check (convertible: "
            f"{', '.join(sorted(CONVERTIBLE))})"
        )
    data: dict[str, Any] = {"type": f"{negate or ''}{name}"}
    value = None if raw is None else raw.strip()
    if name in _LIMIT_TYPES:
        limit = value or threshold
        if limit is None or not _NUMBER.match(limit):
            raise FormError(
                f"{name} needs its limit as a number: {name}: 500 or {name}(500)", misread=True
            )
        data["value"] = _number(limit)
    else:
        if threshold is not None:
            data["threshold"] = _number(threshold)
        if value:
            data["value"] = _value(name, value)
    return check_to_data(parse_check(data))


def form_of(check: Mapping[str, Any]) -> str | None:
    """The assertion cell that reads back into exactly `check`, or None when it has none
    (weights, options, values a cell cannot hold): such checks travel as JSON instead."""
    kind = str(check.get("kind", ""))
    extra = set(check) - {"kind", "value", "negate", "threshold", "ignore_case"}
    if extra:
        return None
    name = _EXPORT_NAMES.get(kind, kind)
    if kind in ("contains-any", "contains-all") and check.get("ignore_case"):
        name = "i" + kind
    elif "ignore_case" in check:
        return None
    if kind == "json-schema":
        name = "is-json"
    value = check.get("value")
    text = f"{'not-' if check.get('negate') else ''}{name}"
    threshold = check.get("threshold")
    if threshold is not None:
        text += f"({threshold})"
    if isinstance(value, list):
        text += ": " + ",".join(str(item) for item in value)
    elif isinstance(value, dict):
        text += ": " + json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif value is not None:
        text += f": {value}"
    try:
        if check_from_form(text) == dict(check):
            return text
    except (FormError, CheckError):
        pass
    return None


def _number(text: str) -> int | float:
    return int(text) if text.isdigit() else float(text)


def _value(name: str, value: str) -> Any:
    if name in _LIST_TYPES:
        # promptfoo splits on commas: "contains-any: <b>,</span>" is two phrases.
        return [part.strip() for part in value.split(",")]
    if name == "is-json":
        try:
            schema = load_json(value)
        except ValueError as error:
            raise FormError(
                f"is-json: the schema after the colon is not JSON ({error})", misread=True
            ) from None
        return schema
    return value
