"""`from llmbench import Bench`: real applications call models through the gateway and log
into the same file the workbench reads.

    bench = Bench(db="app.db")
    answer = bench.complete("support-reply", variables={"ticket": text}, tags={"user": uid})
    bench.feedback(answer, "thumbs", 1)

Synchronous methods run on the gateway's background event loop, so plain scripts need none.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from typing import Any

from llmbench.config import Settings, load_settings
from llmbench.core.models import PromptVersion
from llmbench.core.prompts.templates import render_messages, template_of
from llmbench.core.tokens import count_tokens
from llmbench.core.traffic.routing import decide
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayResult, RequestOptions
from llmbench.gateway.recorder import AuditRecorder, Durability, durability_of
from llmbench.paths import resolve_db_path
from llmbench.services.evaluation.similarity import embedder_for
from llmbench.services.sdk_conversation import Conversation, Parent, ThreadArgs, call_thread
from llmbench.store.audit.feedback import add_feedback, call_id_for_request
from llmbench.store.cache_policies import policy_for
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo

EXPLICIT_FEEDBACK = ("thumbs", "rating", "comment")
IMPLICIT_FEEDBACK = ("retried", "copied", "task_completed", "time_spent")
FEEDBACK_KINDS = EXPLICIT_FEEDBACK + IMPLICIT_FEEDBACK


class Bench:
    """The SDK. `model_or_prompt` is a model name, or a prompt name whose `production` label
    (or the `version=` given: a label or a number) supplies messages, model and params.

    `durability="durable"` (the default): a call returns only once its audit row is committed,
    and raises CallNotRecorded (the answer attached) when the file refuses it. "async": a call
    returns once its row is queued; a crash may lose the last calls, and a refused row shows
    only in close() and `gateway.recorder.failed_writes`."""

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        settings: Settings | None = None,
        tags: Mapping[str, str] | None = None,
        durability: Durability = "durable",
    ) -> None:
        durability = durability_of(durability)  # refused before the file is opened
        self.store: Store = open_db(resolve_db_path(db))
        self.settings = settings or load_settings()
        self.tags = dict(tags or {})
        self.gateway = Gateway(AuditRecorder(self.store), self.settings, durability=durability)

    def _prompt_version(self, name: str, version: str | int | None) -> PromptVersion | None:
        db = self.store.read()
        if prompts_repo.get_prompt(db, name) is None:
            return None
        return prompts_repo.resolve_version(db, name, version or "production")

    def _request(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None,
        variables: Mapping[str, object] | None,
        version: str | int | None,
        params: Mapping[str, Any] | None,
        tags: Mapping[str, str] | None,
        thread: ThreadArgs | None = None,
    ) -> tuple[str, list[Mapping[str, Any]], RequestOptions]:
        """The model, messages and gateway options of a call. A prompt is routed here (its
        arms can name versions); a bare model is routed by the gateway. `thread`: the
        (conversation, trace, parent) given to the call."""
        where = call_thread(*thread) if thread else None
        tags = {**self.tags, **(tags or {})}
        prompt = self._prompt_version(model_or_prompt, version)
        if prompt is None:
            if messages is None:
                raise ValueError(f"{model_or_prompt!r} is not a prompt: pass messages=")
            plain: RequestOptions = {"params": dict(params or {}), "tags": tags, "thread": where}
            return model_or_prompt, list(messages), plain
        model = prompt.model or self.settings.models.default_models[0]
        arm = None
        if version is None:  # an explicit version is never re-routed
            decision = decide(
                self.gateway.routes(),
                prompt=model_or_prompt,
                model=model,
                tags=tags,
                request_id=uuid.uuid4().hex,
            )
            if decision is not None:
                arm = decision.label
                if decision.arm.version:
                    prompt = self._prompt_version(model_or_prompt, decision.arm.version) or prompt
                    model = prompt.model or model
                model = decision.arm.model or model
        template = template_of(prompt)
        rendered = render_messages(
            template,
            variables or {},
            count=lambda text: count_tokens(text, model),
            embed=embedder_for(self.settings) if template.few_shot_k else None,
        )
        options: RequestOptions = {
            "params": {**prompt.params, **(params or {})},
            "tags": tags,
            "prompt_version_id": prompt.id,
            "arm": arm,
            "route": False,
            "thread": where,
        }
        return model, [*rendered, *(messages or [])], options

    async def acomplete(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        *,
        variables: Mapping[str, object] | None = None,
        version: str | int | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        cache: bool | str | None = None,
        conversation: Conversation | str | None = None,
        trace: str | bool | None = None,
        parent: Parent = None,
    ) -> GatewayResult:
        """`cache`: True for exact and near-duplicate hits, "exact", or "semantic" (similar
        questions too, with `embedding_model` set); hits are recorded as cache_hit calls.
        None (the default): the prompt's cache policy, shipped from the optimizer (none for
        a bare model); False: no cache.
        `conversation` (an id or a `conversation()`), `trace` (an id, or True for a new one)
        and `parent` (the result or request_id of the step this call is made under) place the
        call in a thread."""
        model, built, options = self._request(
            model_or_prompt,
            messages,
            variables,
            version,
            params,
            tags,
            (conversation, trace, parent),
        )
        if cache is None:  # one indexed read, as the prompt's version is read per call
            cache = policy_for(self.store.read(), model_or_prompt) or False
        return await self.gateway.complete(model, built, cache=cache, **options)

    async def astream(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        *,
        variables: Mapping[str, object] | None = None,
        version: str | int | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        conversation: Conversation | str | None = None,
        trace: str | bool | None = None,
        parent: Parent = None,
    ) -> AsyncGenerator[str | GatewayResult, None]:
        """Text chunks, then the GatewayResult; recorded like complete()."""
        model, built, options = self._request(
            model_or_prompt,
            messages,
            variables,
            version,
            params,
            tags,
            (conversation, trace, parent),
        )
        async for piece in self.gateway.stream(model, built, **options):
            yield piece

    def complete(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> GatewayResult:
        return run_sync(self.acomplete(model_or_prompt, messages, **kwargs))

    def stream(
        self,
        model_or_prompt: str,
        messages: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Iterator[str | GatewayResult]:
        """astream() for code without an event loop: text chunks, then the GatewayResult.

        Each step of astream() runs on the gateway's background loop. Closing this iterator
        before the result (break, close(), or dropping it) closes astream() there, so the call
        ends exactly as an astream() closed early does."""
        pieces = self.astream(model_or_prompt, messages, **kwargs)
        try:
            while (piece := run_sync(_next_piece(pieces))) is not _END:
                yield piece  # type: ignore[misc]  # _END is the only other value
        finally:
            # After an interrupt (ctrl+c) the step may still be running on the loop: closing
            # it now would fail, and the loop finalizes the stream itself once it is dropped.
            if not pieces.ag_running:
                run_sync(pieces.aclose())

    def conversation(
        self,
        conversation_id: str | None = None,
        *,
        trace: str | bool | None = None,
        parent: Parent = None,
    ) -> Conversation:
        """A conversation (its id generated when not given) whose calls are recorded as one
        thread; `trace`: an id, or True for a new one (one agent run); `parent`: the step its
        calls are made under. Use its complete/acomplete/stream/astream as the Bench's."""
        return Conversation(self, conversation_id, trace=trace, parent=parent)

    def feedback(
        self,
        call: GatewayResult | int | str,
        kind: str,
        value: float | None = None,
        comment: str = "",
    ) -> int:
        """Record a user's signal about a call: explicit (thumbs ±1, rating, comment) or implicit
        (retried, copied, task_completed, time_spent in seconds)."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(
                f"unknown feedback kind {kind!r}; use one of {', '.join(FEEDBACK_KINDS)}"
            )
        if kind == "thumbs" and value not in (1, -1, 1.0, -1.0):
            raise ValueError("thumbs feedback is 1 or -1")
        if isinstance(call, GatewayResult):
            call_id = call.call_id
        elif isinstance(call, str):
            self.gateway.recorder.flush()
            found = call_id_for_request(self.store.read(), call)
            if found is None:
                raise LookupError(f"no call with request id {call!r}")
            call_id = found
        else:
            call_id = call
        return self.store.write(lambda db: add_feedback(db, call_id, kind, value, comment))

    def close(self) -> None:
        """Wait for every queued row, then close the file; raises the first refused row that
        no call raised (only "async" calls leave those)."""
        try:
            self.gateway.recorder.flush()
        finally:
            self.store.close()

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END = object()


async def _next_piece(pieces: AsyncGenerator[str | GatewayResult, None]) -> object:
    """The next piece of a stream, or _END once it is over."""
    try:
        return await anext(pieces)
    except StopAsyncIteration:
        return _END
