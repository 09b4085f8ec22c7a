"""Production inputs as test cases: the variables a version's calls were rendered with, read
back from their messages, deduplicated, secrets redacted, each with checks that follow the
version's answer shape (a JSON object's keys, a label's value).

A call records the rendered messages, not the values: the version's template is rendered with a
placeholder per variable, and each message is matched against it (the text around the values
is the template's own), so a call whose messages the template cannot produce is skipped."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.audit.redact import redact
from llmbench.core.models import PromptVersion
from llmbench.core.optimize.answers import AnswerShape, json_object
from llmbench.core.prompts.templates import detect_variables, render_messages, template_of

Matcher = Callable[[Sequence[Mapping[str, Any]]], dict[str, str] | None]
_SLOT = "LLMBENCHSLOT{}Q7X"  # plain letters: rendering strips control characters


def input_matcher(version: PromptVersion) -> Matcher:
    names = sorted(detect_variables(version.sections))
    slots = {name: _SLOT.format(i) for i, name in enumerate(names)}
    shapes = render_messages(template_of(version), slots)
    patterns = []
    for message in shapes:
        text = message.get("content")
        if not isinstance(text, str):
            patterns.append(None)
            continue
        pattern = re.escape(text)
        for name, slot in slots.items():
            group = f"(?P<v{names.index(name)}>.*?)"
            # A variable used twice must hold the same value both times.
            pattern = pattern.replace(re.escape(slot), group, 1)
            pattern = pattern.replace(re.escape(slot), f"(?P=v{names.index(name)})")
        patterns.append(re.compile(pattern, re.DOTALL))

    def match(messages: Sequence[Mapping[str, Any]]) -> dict[str, str] | None:
        if len(messages) != len(patterns):
            return None
        values: dict[str, str] = {}
        for message, pattern in zip(messages, patterns, strict=True):
            text = message.get("content")
            if pattern is None or not isinstance(text, str):
                continue
            found = pattern.fullmatch(text)
            if found is None:
                return None
            values.update({names[int(key[1:])]: value for key, value in found.groupdict().items()})
        return values if set(values) == set(names) else None

    return match


@dataclass(frozen=True)
class SampledCase:
    vars: dict[str, str]
    answer: str  # what production answered: the case's golden answer
    checks: tuple[dict[str, Any], ...] = ()
    call_id: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


def checks_for(shape: AnswerShape, answer: str) -> tuple[dict[str, Any], ...]:
    """What an answer of this shape must keep: a JSON object its keys, a label itself; free
    text nothing that a check can say (its golden answer is kept for a judge or similarity)."""
    if shape == "json":
        obj = json_object(answer.strip()) or {}
        return ({"type": "is-json"}, *({"type": "contains", "value": f'"{key}"'} for key in obj))
    if shape == "label":
        return ({"type": "equals", "value": answer.strip()},)
    return ()


def sample_cases(
    calls: Iterable[tuple[int, str, str]],
    match: Matcher,
    shape: AnswerShape,
    limit: int,
    known_secrets: Iterable[str] = (),
) -> list[SampledCase]:
    """Up to `limit` cases from (call id, messages JSON, answer), newest first as given: the
    inputs redacted as the audit log redacts (core/audit/redact.py), then deduplicated."""
    secrets = tuple(known_secrets)
    seen: set[str] = set()
    cases: list[SampledCase] = []
    for call_id, messages_json, answer in calls:
        try:
            messages = json.loads(messages_json)
        except ValueError:
            continue
        values = match(messages) if isinstance(messages, list) else None
        if values is None:
            continue
        values = {name: str(redact(value, secrets)) for name, value in values.items()}
        key = json.dumps(values, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        cases.append(
            SampledCase(
                values, answer, checks_for(shape, answer), call_id, {"source": "production"}
            )
        )
        if len(cases) >= limit:
            break
    return cases
