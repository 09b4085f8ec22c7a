"""A conversation or trace as F6 shows it: the calls that share a conversation_id (or, for a
call in no conversation, a trace_id) as steps in order, each under the step it was made in
(parent_request_id), with what the step added to the conversation (the user's message, the
tool results it sent back) and what its answer did (text, tool calls).

Pure: the rows come from the store as mappings of the `calls` columns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from llmbench.core.models import ToolCall

ThreadKind = Literal["conversation", "trace"]
# How deep steps are indented at most: a damaged or hostile parent chain stays readable.
MAX_DEPTH = 8


@dataclass(frozen=True)
class ToolResult:
    """A tool's result a step sent back to the model."""

    call_id: str
    name: str
    content: str


@dataclass(frozen=True)
class ThreadStep:
    id: int
    ts: str
    request_id: str
    attempt: int
    model: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    tokens_estimated: bool
    cost: float | None
    latency_ms: float | None
    trace_id: str | None
    parent_request_id: str | None
    user_text: str | None
    """The user's message this step added (None when it sent only tool results)."""
    tool_results: tuple[ToolResult, ...]
    response: str | None
    tool_calls: tuple[ToolCall, ...]
    error: str | None
    depth: int = 0


@dataclass(frozen=True)
class Thread:
    kind: ThreadKind
    id: str
    steps: tuple[ThreadStep, ...]
    """In thread order: each step after the step it was made under, siblings by time."""
    truncated: bool = False
    """The thread has more steps than were read (the first ones are shown)."""

    @property
    def traces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.trace_id for s in self.steps if s.trace_id))

    @property
    def tokens(self) -> int:
        return sum(s.prompt_tokens + s.completion_tokens for s in self.steps)

    @property
    def cost(self) -> float:
        return sum(s.cost or 0.0 for s in self.steps)

    @property
    def latency_ms(self) -> float:
        return sum(s.latency_ms or 0.0 for s in self.steps)

    @property
    def tool_call_count(self) -> int:
        return sum(len(s.tool_calls) for s in self.steps)


def _loads(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def own_input(messages: Any) -> tuple[str | None, tuple[ToolResult, ...]]:
    """What a call added to its conversation: the trailing user and tool messages (after the
    last assistant message), as the last user text and the tool results."""
    found = _loads(messages)
    if not isinstance(found, list):
        return None, ()
    tail: list[dict[str, Any]] = []
    for message in reversed(found):
        if not isinstance(message, dict) or message.get("role") not in ("user", "tool"):
            break
        tail.append(message)
    tail.reverse()
    users = [_text_of(m.get("content")) for m in tail if m.get("role") == "user"]
    results = tuple(
        ToolResult(
            str(m.get("tool_call_id") or ""),
            str(m.get("name") or ""),
            _text_of(m.get("content")),
        )
        for m in tail
        if m.get("role") == "tool"
    )
    return (users[-1] if users else None), results


def answer_tool_calls(value: Any) -> tuple[ToolCall, ...]:
    """The calls.tool_calls column ({"id", "name", "arguments"} items) as ToolCalls."""
    found = _loads(value)
    return tuple(
        ToolCall(str(c.get("id") or ""), str(c.get("name") or "?"), str(c.get("arguments") or ""))
        for c in (found if isinstance(found, list) else ())
        if isinstance(c, dict)
    )


def step_of(row: Mapping[str, Any]) -> ThreadStep:
    user_text, results = own_input(row.get("messages"))
    return ThreadStep(
        id=int(row["id"]),
        ts=str(row["ts"]),
        request_id=str(row["request_id"]),
        attempt=int(row.get("attempt") or 1),
        model=str(row.get("model") or ""),
        status=str(row.get("status") or ""),
        prompt_tokens=int(row.get("prompt_tokens") or 0),
        completion_tokens=int(row.get("completion_tokens") or 0),
        tokens_estimated=bool(row.get("tokens_estimated")),
        cost=row.get("cost"),
        latency_ms=row.get("latency_ms"),
        trace_id=row.get("trace_id"),
        parent_request_id=row.get("parent_request_id"),
        user_text=user_text,
        tool_results=results,
        response=row.get("response"),
        tool_calls=answer_tool_calls(row.get("tool_calls")),
        error=row.get("error"),
    )


def in_thread_order(steps: Sequence[ThreadStep]) -> tuple[ThreadStep, ...]:
    """Steps (in time order) with each step's children right after it, depth set: a step
    whose parent is not among them (or made under itself) is at the top."""
    firsts: dict[str, ThreadStep] = {}
    for step in steps:
        firsts.setdefault(step.request_id, step)
    children: dict[str, list[ThreadStep]] = {}
    tops: list[ThreadStep] = []
    for step in steps:
        parent = step.parent_request_id
        if parent and parent in firsts and parent != step.request_id:
            children.setdefault(parent, []).append(step)
        else:
            tops.append(step)
    ordered: list[ThreadStep] = []
    placed: set[int] = set()
    stack: list[tuple[ThreadStep, int]] = [(step, 0) for step in reversed(tops)]
    while stack:
        step, depth = stack.pop()
        if step.id in placed:
            continue
        placed.add(step.id)
        ordered.append(_with_depth(step, depth))
        # Only the request's first attempt carries its children (they hang off the request).
        if firsts[step.request_id] is step:
            below = children.get(step.request_id, [])
            stack.extend((child, min(depth + 1, MAX_DEPTH)) for child in reversed(below))
    # A cycle of parents leaves its steps unplaced: shown at the top, in time order.
    ordered.extend(_with_depth(step, 0) for step in steps if step.id not in placed)
    return tuple(ordered)


def _with_depth(step: ThreadStep, depth: int) -> ThreadStep:
    return step if step.depth == depth else replace(step, depth=depth)


def build_thread(
    kind: ThreadKind, ident: str, rows: Sequence[Mapping[str, Any]], truncated: bool = False
) -> Thread:
    """The thread of the rows (the calls of one conversation or trace, in id order)."""
    return Thread(kind, ident, in_thread_order([step_of(row) for row in rows]), truncated)
