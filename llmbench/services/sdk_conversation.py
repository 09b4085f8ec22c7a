"""`Bench.conversation()`: the calls of one chat or agent run, recorded as one thread.

    with bench.conversation("support-42", trace=True) as chat:
        plan = chat.complete("planner", messages)               # a step of the trace
        chat.complete("search", more, parent=plan)             # a step under the first one
        chat.new_trace().complete("planner", follow_up)        # the next run, same chat

Each call's row carries the conversation id, the trace id and the request_id of its parent
step (calls.conversation_id, trace_id, parent_request_id), so F6 shows them as one thread.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmbench.core.models import CallThread
from llmbench.gateway.outcomes import GatewayResult

if TYPE_CHECKING:
    from llmbench.services.sdk import Bench

Parent = GatewayResult | str | None
# What a call was given: its conversation (an id or a Conversation), trace and parent step.
ThreadArgs = tuple["Conversation | str | None", "str | bool | None", Parent]


def new_thread_id() -> str:
    return uuid.uuid4().hex


def parent_request_id(parent: Parent) -> str | None:
    """A parent step as its request_id: a result of an earlier call, or its request_id."""
    if parent is None or isinstance(parent, str):
        return parent
    if isinstance(parent, GatewayResult):
        return parent.request_id
    raise TypeError(f"parent must be a GatewayResult or a request_id, not {type(parent).__name__}")


def call_thread(
    conversation: Conversation | str | None, trace: str | bool | None, parent: Parent
) -> CallThread | None:
    """The thread of one call from the SDK's plain parameters (None when none was given).
    `conversation` may be a Conversation, whose trace and parent step apply unless given here;
    `trace=True` starts a new trace for this call alone."""
    if isinstance(conversation, Conversation):
        base = conversation.thread
    else:
        base = CallThread(conversation_id=conversation)
    trace_id = new_thread_id() if trace is True else (trace or base.trace_id)
    parent_id = parent_request_id(parent) or base.parent_request_id
    thread = CallThread(base.conversation_id, trace_id or None, parent_id)
    return None if thread == CallThread() else thread


class Conversation:
    """One conversation (its id given, or generated), optionally one trace within it, and the
    step new calls are made under. A context manager for readability only: nothing is held
    open, and its calls are recorded as each ends."""

    def __init__(
        self,
        bench: Bench,
        conversation_id: str | None = None,
        *,
        trace: str | bool | None = None,
        parent: Parent = None,
    ) -> None:
        self.bench = bench
        trace_id = new_thread_id() if trace is True else (trace or None)
        self.thread = CallThread(
            conversation_id or new_thread_id(), trace_id, parent_request_id(parent)
        )

    @property
    def id(self) -> str:
        return str(self.thread.conversation_id)

    @property
    def trace_id(self) -> str | None:
        return self.thread.trace_id

    def new_trace(self, trace_id: str | None = None) -> Conversation:
        """The same conversation, in a new trace (the next agent run of the chat)."""
        return Conversation(self.bench, self.id, trace=trace_id or True)

    def step(self, parent: GatewayResult | str) -> Conversation:
        """The same conversation and trace, whose calls are steps under `parent`."""
        return Conversation(self.bench, self.id, trace=self.trace_id, parent=parent)

    async def acomplete(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> GatewayResult:
        return await self.bench.acomplete(model_or_prompt, messages, conversation=self, **kwargs)

    def complete(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> GatewayResult:
        return self.bench.complete(model_or_prompt, messages, conversation=self, **kwargs)

    def astream(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[str | GatewayResult, None]:
        return self.bench.astream(model_or_prompt, messages, conversation=self, **kwargs)

    def stream(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Iterator[str | GatewayResult]:
        return self.bench.stream(model_or_prompt, messages, conversation=self, **kwargs)

    def __enter__(self) -> Conversation:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"Conversation(id={self.id!r}, trace_id={self.trace_id!r})"
