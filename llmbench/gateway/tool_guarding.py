"""The guards on tool traffic at the gateway: what a tool sent back, and what the model asks a
tool to do.

- Tool results sent back to the model are untrusted content, like a retrieved document: a
  tool fetched them from the outside world. The input guard reads `role: "tool"` (and the
  legacy "function") messages whole, and Anthropic's `tool_result` blocks as litellm passes
  them (`{"type": "tool_result", "tool_use_id", "content": str | [text blocks]}` inside a user
  message), and names an injection found there `injection.tool_result` (indirect injection,
  apart from the user's own words; its kind stays "injection", so the policy's action for
  injections applies). Where such a text is: `messages[i].content[j].content` (a string
  content) or `messages[i].content[j].content[k]` (one of its text blocks).
- The arguments of each tool call the answer makes go through the output guard like the
  answer's text (secrets, personal data, leaks of the prompt, banned phrases), each finding at
  `tool_calls[i].arguments`: flagged; redacted in what the caller gets and what is stored;
  blocking withholds the whole answer. A stream hands its tool calls over only at its end, so
  redact and block apply to them even when the text was streamed. A redaction mark holds no
  quote or backslash, and the detectors' spans do not either, so arguments that were JSON
  stay JSON.
- Tool definitions (the request's `tools`) are the developer's, like the system prompt: they
  travel in the params, which no guard reads as input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from llmbench.core.models import ToolCall

if TYPE_CHECKING:
    from llmbench.gateway.completion_result import CompletionResult
    from llmbench.gateway.guarding import Guard, GuardContext

TOOL_RESULT = "tool_result"
TOOL_ROLES = frozenset({"tool", "function"})


# -- tool results, read by the input guard --------------------------------------------------------


def tool_result_texts(where: str, block: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(where, text, "tool") of each text of an Anthropic `tool_result` block found at `where`
    (`messages[i].content[j]`)."""
    content = block.get("content")
    if isinstance(content, str):
        return [(f"{where}.content", content, "tool")] if content else []
    found = []
    for index, part in enumerate(content if isinstance(content, list) else ()):
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            found.append((f"{where}.content[{index}]", part["text"], "tool"))
    return found


def with_tool_result_text(block: Any, inner: str, text: str) -> dict[str, Any]:
    """A copy of a `tool_result` block with the text at `inner` (".content" or
    ".content[k]", what follows the block in a `where`) replaced."""
    copy = dict(block)
    rest = inner.removeprefix(".content")
    if not rest:
        copy["content"] = text
        return copy
    index = int(rest.removeprefix("[").removesuffix("]"))
    parts = [dict(part) if isinstance(part, Mapping) else part for part in copy["content"]]
    parts[index]["text"] = text
    copy["content"] = parts
    return copy


# -- tool calls, read by the output guard ---------------------------------------------------------


@dataclass(frozen=True)
class AnswerVerdict:
    """The output guard's verdict on a whole answer: its text and its tool calls."""

    blocked: bool
    reason: str
    result: CompletionResult
    """What the caller receives: redacted text and arguments."""
    stored_text: str
    stored_tool_calls: tuple[ToolCall, ...]
    flags: tuple[dict[str, Any], ...]


def arguments_where(index: int) -> str:
    return f"tool_calls[{index}].arguments"


def guard_answer(
    guard: Guard,
    result: CompletionResult,
    messages: Sequence[Mapping[str, Any]],
    context: GuardContext,
    *,
    known_secrets: Iterable[str] = (),
    streamed: bool = False,
) -> AnswerVerdict:
    """The output guard on the answer's text and on each tool call's arguments."""
    known_secrets = tuple(known_secrets)
    output = guard.check_output(
        result.text, messages, context, known_secrets=known_secrets, streamed=streamed
    )
    flags = list(output.flags)
    reasons = [output.reason] if output.blocked else []
    sent: list[ToolCall] = []
    stored: list[ToolCall] = []
    for index, call in enumerate(result.tool_calls):
        # Never `streamed`: a stream's tool calls reach the caller only with its result.
        verdict = guard.check_output(call.arguments, messages, context, known_secrets=known_secrets)
        where = arguments_where(index)
        for flag in verdict.flags:
            flags.append({**flag, "where": where})
        if verdict.blocked:
            reasons.append(f"{where} of {call.name}: {verdict.reason}")
        sent.append(replace(call, arguments=verdict.text))
        stored.append(replace(call, arguments=verdict.stored_text))
    return AnswerVerdict(
        blocked=bool(reasons),
        reason="; ".join(reasons),
        result=replace(result, text=output.text, tool_calls=tuple(sent)),
        stored_text=output.stored_text,
        stored_tool_calls=tuple(stored),
        flags=tuple(flags),
    )
