"""What a version's answers look like, and the response settings that follow from it: a
max_tokens cap from the completion-token distribution, stop sequences, and a format that asks
for the shortest form (a label alone) or a JSON schema (an extraction).

Pure: the store hands over the observed answers and token counts."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from llmbench.core.evaluation.json_schema import json_type
from llmbench.core.stats import percentile

AnswerShape = Literal["label", "json", "text"]

MIN_ANSWERS = 20  # fewer answers say too little about the distribution to cap it
CAP_QUANTILE = 0.99
CAP_MARGIN = 0.25  # a quarter above p99, so the rare long answer that passed is not cut
CAP_MIN_MARGIN = 8
LABEL_MAX_WORDS = 4  # a classification answer: a word or a short phrase
LABEL_MAX_DISTINCT = 20  # ...from a small set


def json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def answer_shape(answers: Sequence[str]) -> AnswerShape:
    """ "label" when every answer is a short line from a small set (a classification), "json"
    when every answer is a JSON object (an extraction), else "text"."""
    texts = [answer.strip() for answer in answers if answer and answer.strip()]
    if not texts:
        return "text"
    if all(json_object(text) is not None for text in texts):
        return "json"
    short = all("\n" not in text and len(text.split()) <= LABEL_MAX_WORDS for text in texts)
    if short and len({text.casefold() for text in texts}) <= LABEL_MAX_DISTINCT:
        return "label"
    return "text"


def labels_of(answers: Sequence[str]) -> list[str]:
    """The distinct labels, most frequent first (ties in first-seen order)."""
    counts: dict[str, int] = {}
    for answer in answers:
        text = answer.strip().rstrip(".")
        if text:
            counts[text] = counts.get(text, 0) + 1
    return sorted(counts, key=lambda label: -counts[label])


def max_tokens_cap(completion_tokens: Sequence[int]) -> int | None:
    """p99 of the completion tokens plus a margin; None with too few answers to tell."""
    if len(completion_tokens) < MIN_ANSWERS:
        return None
    p99 = percentile(sorted(completion_tokens), CAP_QUANTILE) or 0.0
    return int(p99) + max(math.ceil(p99 * CAP_MARGIN), CAP_MIN_MARGIN)


def capped_tokens(completion_tokens: Sequence[int], cap: int) -> int:
    """Completion tokens the cap would not have been billed for, replayed over the calls."""
    return sum(max(tokens - cap, 0) for tokens in completion_tokens)


def stop_sequences(shape: AnswerShape) -> list[str]:
    """A label ends at its line; a JSON object or free text has no safe stop (a stop sequence
    is cut from the answer, so "}" would break the object)."""
    return ["\n"] if shape == "label" else []


def json_schema_of(answers: Sequence[str]) -> dict[str, Any]:
    """A JSON schema every observed object satisfies: the keys all of them have are required,
    each typed by the JSON types seen for it, and a string field whose values are a few short
    labels limited to them (an enum)."""
    objects = [obj for obj in (json_object(a.strip()) for a in answers) if obj is not None]
    kinds: dict[str, set[str]] = {}
    strings: dict[str, set[str]] = {}
    for obj in objects:
        for key, value in obj.items():
            kinds.setdefault(key, set()).add(json_type(value))
            if isinstance(value, str):
                strings.setdefault(key, set()).add(value)
    properties: dict[str, Any] = {}
    for key, types in kinds.items():
        ordered = sorted(types)
        properties[key] = {"type": ordered[0] if len(ordered) == 1 else ordered}
        values = strings.get(key, set())
        # A string field with few distinct short values is a classification: its labels.
        if ordered == ["string"] and _is_label_set(values, len(objects)):
            properties[key]["enum"] = sorted(values)
    required = [key for key in kinds if all(key in obj for obj in objects)]
    return {"type": "object", "properties": properties, "required": required}


def _is_label_set(values: set[str], answers: int) -> bool:
    few = len(values) <= min(LABEL_MAX_DISTINCT, max(answers // 2, 1))
    return few and all(len(value.split()) <= LABEL_MAX_WORDS for value in values)


def concise_format(format_text: str, shape: AnswerShape, labels: Sequence[str]) -> str | None:
    """The format section asking for the shortest form; None for free text (no shorter form
    can be asked for without changing what the answer says)."""
    if shape == "label":
        options = ", ".join(labels)
        rule = f"Answer with one label only ({options}): no explanation, no punctuation."
    elif shape == "json":
        rule = "Answer with the JSON object only: no prose, no code fence."
    else:
        return None
    return f"{format_text.rstrip()}\n{rule}".strip()


def structured_params(
    params: Mapping[str, Any], shape: AnswerShape, answers: Sequence[str]
) -> dict[str, Any]:
    """The version's params with the JSON schema of its answers as `response_format` (for an
    extraction); unchanged otherwise."""
    updated = dict(params)
    if shape == "json":
        updated["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": json_schema_of(answers)},
        }
    return updated
