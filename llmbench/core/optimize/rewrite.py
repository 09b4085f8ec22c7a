"""Compression by a model's rewrite: the request that asks a model (through the gateway) for a
shorter text of a version's sections, and the strict reading of its answer.

A rewrite is used only when it is one JSON object naming exactly the version's sections, each
keeping its template code ({{ }}, {% %}, {# #}) verbatim and in order (the call's values and
the logic that places them), and when it is shorter; anything else is refused with the reason,
and the rules' compression (compression.py) still stands on its own.

Pure: the caller sends the messages and hands the answer back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.core.optimize.compression import TEMPLATE_CODE, TokenCount, static_text

# The system message's first words: how a rewrite request is known (the built-in mock answers
# it by the rules, builtin_models/prompt_rewrite.py), and what the audit log shows of it.
MARKER = "[llmbench optimize: rewrite]"
INSTRUCTIONS = (
    f"{MARKER} You shorten prompt templates without changing what they ask. The user message"
    " is a JSON object mapping each section's name to its text. Remove repeated instructions,"
    " boilerplate and filler words; keep every rule, example and constraint. Copy every"
    " template tag ({{ ... }}, {% ... %}, {# ... #}) exactly as written and in the same order."
    " Answer with one JSON object with the same keys and the shorter texts, and nothing else."
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def rewrite_messages(sections: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": json.dumps(dict(sections), ensure_ascii=False, indent=1)},
    ]


def requested_sections(messages: Sequence[Mapping[str, object]]) -> dict[str, str] | None:
    """The sections a rewrite request asks to shorten; None when the messages are not one."""
    if len(messages) < 2 or messages[0].get("role") != "system":
        return None
    system = messages[0].get("content")
    if not isinstance(system, str) or not system.startswith(MARKER):
        return None
    user = messages[-1].get("content")
    if not isinstance(user, str):
        return None
    try:
        value = json.loads(user)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return None
    return {str(name): text for name, text in value.items()}


@dataclass(frozen=True)
class Reading:
    sections: dict[str, str] | None  # the rewrite, when it can be used
    problem: str = ""  # why it cannot


def _object(answer: str) -> Any:
    text = answer.strip()
    fenced = _FENCE.match(text)  # models often fence JSON despite being asked not to
    try:
        return json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return None


def read_rewrite(answer: str, sections: Mapping[str, str], count: TokenCount) -> Reading:
    value = _object(answer)
    if not isinstance(value, dict):
        return Reading(None, "the answer is not a JSON object")
    if set(value) != set(sections):
        return Reading(None, "the answer does not name exactly the version's sections")
    rewritten: dict[str, str] = {}
    for name, before in sections.items():
        after = value[name]
        if not isinstance(after, str):
            return Reading(None, f"section {name!r} is not text")
        if TEMPLATE_CODE.findall(after) != TEMPLATE_CODE.findall(before):
            return Reading(None, f"section {name!r} changed its template code")
        if before.strip() and not after.strip():
            return Reading(None, f"section {name!r} was emptied")
        rewritten[name] = after
    if count(static_text(rewritten)) >= count(static_text(sections)):
        return Reading(None, "the rewrite is not shorter")
    return Reading(rewritten)
