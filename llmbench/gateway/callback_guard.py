"""The guards over a call the litellm callback logs: the call has happened already, so every
finding the default policy acts on becomes a flag naming the action the policy would have
taken (Guard.flags_for_logged_call does so for the messages and the answer's text).

As at the gateway (gateway/tool_guarding.py), the arguments of each tool call the answer made
go through the output guard like its text (secrets, personal data, leaks of the prompt, banned
phrases), each finding at `tool_calls[i].arguments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llmbench.core.models import ToolCall
from llmbench.gateway.guarding import Guard
from llmbench.gateway.tool_guarding import arguments_where


def logged_call_flags(
    guard: Guard,
    messages: Sequence[Mapping[str, Any]],
    text: str | None,
    tool_calls: Sequence[ToolCall] = (),
    known_secrets: Iterable[str] = (),
) -> tuple[dict[str, Any], ...]:
    """The guard flags of a logged call: its messages, its text and its tool calls' arguments."""
    flags = list(guard.flags_for_logged_call(messages, text))
    if not guard.enabled:
        return tuple(flags)
    known_secrets = tuple(known_secrets)  # iterated again for each tool call
    for index, call in enumerate(tool_calls):
        verdict = guard.check_output(
            call.arguments, messages, guard.default, known_secrets=known_secrets
        )
        where = arguments_where(index)
        flags += [_after_the_call({**flag, "where": where}) for flag in verdict.flags]
    return tuple(flags)


def _after_the_call(entry: dict[str, Any]) -> dict[str, Any]:
    """Too late to block or redact: a flag that says what the policy would have done."""
    if entry["action"] != "flag":
        entry["note"] = f"logged after the call; the policy says {entry['action']}"
        entry["action"] = "flag"
    return entry
