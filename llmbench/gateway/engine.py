"""The gateway: every model call through routing, the guard, the response cache and each model
of its fallback chain with its retries, with one audit record per attempt; by default a call
returns (or raises) only once its records are committed (group commit, gateway.recorder).

The attempts' policy (fallback chain, backoff, patience) is gateway.attempt_policy, their audit
rows gateway.attempt_rows, and what a request ends with gateway.outcomes. When a model gives up,
the next model of its fallback chain is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, Unpack

from llmbench.config import Settings
from llmbench.core.audit.redact import Redactor
from llmbench.core.costs.pricing import DatedPrice, PriceTable, cost_of
from llmbench.core.models import CallThread, Price
from llmbench.core.tokens import count_message_tokens
from llmbench.core.traffic.ratelimit import ModelLimits, RateLimiter
from llmbench.core.traffic.routing import Route, RouteError, decide, merge_routes
from llmbench.gateway import client
from llmbench.gateway.attempt_policy import (
    backoff_delay,
    beyond_patience,
    fallback_chain,
    model_params,
    model_timeout,
)
from llmbench.gateway.attempt_rows import (
    Row,
    attempt_row,
    blocked_row,
    cache_hit_row,
    mark_answered,
    mark_cancelled,
    mark_failed,
    mark_withheld,
    other_tags,
    public_params,
    request_row,
)
from llmbench.gateway.call_arguments import Transport
from llmbench.gateway.completion_result import CompletionResult
from llmbench.gateway.errors import Failure, classify
from llmbench.gateway.guard_check import CheckCall
from llmbench.gateway.guarding import Guard, GuardContext, guard_columns
from llmbench.gateway.model_prices import price_for
from llmbench.gateway.otel_spans import span_sink
from llmbench.gateway.outcomes import (
    Attempt,
    CallNotRecorded,
    GatewayError,
    GatewayResult,
    GuardBlocked,
    RequestOptions,
    StreamBroken,
)
from llmbench.gateway.recorder import AuditRecorder, Durability, RowWrite, durability_of
from llmbench.gateway.response_cache import CacheHit, CacheRequest, ResponseCache, cache_mode
from llmbench.gateway.tool_calls import tool_calls_column
from llmbench.gateway.tool_guarding import AnswerVerdict, guard_answer
from llmbench.store.costs.prices import load_price_table
from llmbench.store.db import StoreError
from llmbench.store.routes import load_routes
from llmbench.store.timestamps import utc_now

# `llmbench prices set` in another process reaches a running gateway within this many seconds.
PRICE_REFRESH_S = 30.0
# `llmbench routes set|delete` in another process reaches a running gateway within this long.
ROUTE_REFRESH_S = 30.0
# Config overrides apply from the beginning of time; a dated price in the database wins after.
CONFIG_PRICE_DATE = "0001-01-01"

Sleep = Callable[[float], Awaitable[None]]


class AttemptCall(Protocol):
    """One attempt at one model: client.complete, or a stream's reader."""

    def __call__(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        params: dict[str, Any],
        timeout: float,
    ) -> Awaitable[CompletionResult]: ...


class Gateway:
    def __init__(
        self,
        recorder: AuditRecorder,
        settings: Settings,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        durability: Durability = "durable",
    ) -> None:
        """`durability`: "durable" returns (or raises) only once the request's audit rows are
        committed; "async" as soon as they are queued (see gateway.recorder)."""
        self.recorder = recorder
        # The recorder strips the parts a request sends; their bytes stay only when asked.
        recorder.keep_media_bytes = settings.retention.keep_media_bytes
        self.settings = settings
        self.spans = span_sink(settings.otel)  # [otel]: each row also goes out as a span
        self.durability = durability_of(durability)
        self.transport: Transport = (
            "litellm" if settings.gateway.openai_transport == "litellm" else "direct"
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._overrides: tuple[float, PriceTable] | None = None
        # When read, what the database held, and the merged routes in the order tried.
        self._stored_routes: tuple[float, tuple[Route, ...], tuple[Route, ...]] | None = None
        self.cache = ResponseCache(recorder.store, settings)
        self.guard = Guard(settings.guard, recorder.store)
        self.limiter = RateLimiter(
            {
                name: ModelLimits(
                    concurrency=options.concurrency or None,
                    requests_per_minute=options.requests_per_minute or None,
                    tokens_per_minute=options.tokens_per_minute or None,
                )
                for name, options in settings.model.items()
            }
        )

    def _price_overrides(self) -> PriceTable:
        """The prices table and the config's [prices], over litellm's table."""
        if self._overrides is None or time.monotonic() - self._overrides[0] > PRICE_REFRESH_S:
            table = load_price_table(self.recorder.store.read())
            for model, price in self.settings.prices.items():
                table.add(
                    DatedPrice(
                        model, CONFIG_PRICE_DATE, Price(price.input, price.output, price.cached)
                    )
                )
            self._overrides = (time.monotonic(), table)
        return self._overrides[1]

    def routes(self) -> tuple[Route, ...]:
        """The routes in the order they are tried: the database's, then the config's (a
        database route replaces a config route of the same name). Re-read every
        ROUTE_REFRESH_S; a database route that no longer parses keeps the last good set."""
        cached = self._stored_routes
        if cached is None or time.monotonic() - cached[0] > ROUTE_REFRESH_S:
            try:
                stored = tuple(load_routes(self.recorder.store.read()))
            except RouteError:
                stored = cached[1] if cached else ()
            cached = (time.monotonic(), stored, merge_routes(self.settings.routes, stored))
            self._stored_routes = cached
        return cached[2]

    def _override(self, started_at: str, *models: str) -> Price | None:
        table = self._price_overrides()
        for model in models:
            price = table.price(model, started_at)
            if price is not None:
                return price
        return None

    def _price_at(self, model: str, started_at: str) -> Price | None:
        """A model's price at a time: the overrides', else litellm's."""
        return self._override(started_at, model) or price_for(model)

    def _cache_hit(
        self,
        hit: CacheHit,
        model: str,
        base: Row,
        extra_tags: Mapping[str, Any],
        redactor: Redactor,
        started: float,
        started_at: str,
        rows: list[RowWrite],
    ) -> GatewayResult:
        result = hit.result((time.perf_counter() - started) * 1000)
        row = cache_hit_row(base, extra_tags, hit, result, started_at)
        ids = self.recorder.record(row, redactor)
        self.spans.emit(row, redactor)
        rows.append(ids)
        self.cache.count_hit(hit.key)
        attempt = Attempt(result.model, "cache_hit", None, None, 0.0)
        return GatewayResult(
            result, str(base["request_id"]), model, (attempt,), ids, cache=hit.kind
        )

    async def complete(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        cache: bool | str = False,
        **options: Unpack[RequestOptions],
    ) -> GatewayResult:
        """One request: routing, cache (opt-in), then each model of the chain with its retries.
        A caller that routed already (the SDK routes prompt versions) passes route=False and the
        arm it chose. `cache`: False, True (exact and near-duplicate hits), "exact", or
        "semantic" (also similar last user messages, when an embedding model is configured)."""
        call = functools.partial(client.complete, transport=self.transport)
        return await self._run(model, messages, call, cache=cache, **options)

    async def stream(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[str | GatewayResult]:
        """Text chunks as they arrive, then the GatewayResult. Failures before the first chunk
        are retried and fall back like complete(); once text has reached the caller, a broken
        stream is recorded and raised, never silently restarted."""
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        received: list[str] = []  # the current attempt's text so far

        async def call(
            candidate: str,
            sent: Sequence[Mapping[str, Any]],
            *,
            params: dict[str, Any],
            timeout: float,
        ) -> CompletionResult:
            received.clear()
            # Closed on every way out (a cancel too), so the provider's response is released.
            async with contextlib.aclosing(
                client.stream(
                    candidate, sent, params=params, timeout=timeout, transport=self.transport
                )
            ) as pieces:
                try:
                    async for piece in pieces:
                        if isinstance(piece, CompletionResult):
                            return piece
                        received.append(piece)
                        events.put_nowait(("chunk", piece))
                except Exception as error:
                    if received:
                        raise StreamBroken(error) from error
                    raise
            raise StreamBroken(RuntimeError("the stream ended without a final result"))

        async def run() -> None:
            try:
                result = await self._run(
                    model, messages, call, cache=False, partial=lambda: "".join(received), **options
                )
            except asyncio.CancelledError:
                raise
            except BaseException as error:
                events.put_nowait(("error", error))
            else:
                events.put_nowait(("done", result))

        task = asyncio.create_task(run())
        try:
            while True:
                kind, value = await events.get()
                if kind == "chunk":
                    yield value
                elif kind == "done":
                    yield value
                    return
                else:
                    raise value
        finally:
            if not task.done():
                task.cancel()
                # The cancelled attempt queues its audit row as the task ends: waiting here
                # means the row exists (after a flush) once aclose() has returned.
                await asyncio.wait([task])

    async def _run(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        call: AttemptCall,
        **options: Any,
    ) -> GatewayResult:
        """_request, then (durably) the wait for its rows' commit: one batch's fsync serves
        every call that ended meanwhile. A refused row turns the outcome into CallNotRecorded,
        which carries it. A cancelled call does not wait: its row lands all the same."""
        rows: list[RowWrite] = []
        try:
            result = await self._request(model, messages, call, rows, **options)
        except GatewayError as error:
            await self._committed(rows, error)
            raise
        await self._committed(rows, result)
        return result

    async def _committed(self, rows: list[RowWrite], outcome: GatewayResult | GatewayError) -> None:
        if self.durability == "durable" and (refused := await self.recorder.committed(rows)):
            raise CallNotRecorded(outcome, refused) from refused

    async def _request(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        call: AttemptCall,
        rows: list[RowWrite],
        *,
        cache: bool | str,
        partial: Callable[[], str] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        prompt_version_id: int | None = None,
        run_id: int | None = None,
        prompt: str | None = None,
        arm: str | None = None,
        route: bool = True,
        thread: CallThread | None = None,
    ) -> GatewayResult:
        request_id = uuid.uuid4().hex
        tags = dict(tags or {})
        if route:
            decision = decide(
                self.routes(), prompt=prompt, model=model, tags=tags, request_id=request_id
            )
            if decision is not None:
                arm = decision.label
                model = decision.arm.model or model
        call_secrets = [str(params["api_key"])] if params and params.get("api_key") else []
        redactor = self.recorder.redactor(call_secrets)

        def record(row: Row) -> RowWrite:
            written = self.recorder.record(row, redactor)
            self.spans.emit(row, redactor)
            rows.append(written)
            return written

        guard_context: GuardContext | None = None
        stored_messages: Sequence[Mapping[str, Any]] = messages
        input_flags: tuple[dict[str, Any], ...] = ()
        blocked_because: str | None = None
        guard_started = time.perf_counter()
        if self.guard.enabled:
            guard_context = self.guard.context(prompt_version_id)
            judge = CheckCall(self.complete, request_id, tags, thread)
            verdict = await self.guard.check_input_checked(messages, guard_context, model, judge)
            messages, stored_messages = verdict.messages, verdict.stored_messages
            input_flags = verdict.flags
            blocked_because = verdict.reason if verdict.blocked else None
        base = request_row(
            request_id, model, prompt_version_id, run_id, arm, stored_messages, tags, input_flags
        )
        if thread is not None:
            base.update(thread.columns())
        extra_tags = other_tags(tags)
        if blocked_because is not None:
            public = public_params(params or {})
            row = {**base, "params": json.dumps(public, sort_keys=True, default=str)}
            record(blocked_row(row, extra_tags, model, blocked_because, guard_started))
            attempt = Attempt(model, "blocked", "guard_input", blocked_because, 0.0)
            raise GuardBlocked(request_id, [attempt], "input", blocked_because, input_flags)
        mode = cache_mode(cache)
        cached: CacheRequest | None = None
        if mode is not None:
            started, started_at = time.perf_counter(), utc_now()
            cached = self.cache.request(mode, model, messages, params or {})
            hit, cached = await self.cache.lookup(cached, model, messages, params or {}, started_at)
            if hit is not None:
                return self._cache_hit(
                    hit, model, base, extra_tags, redactor, started, started_at, rows
                )
        attempts: list[Attempt] = []
        last: Failure | None = None
        row_of = functools.partial(attempt_row, base, extra_tags)
        for candidate in fallback_chain(self.settings, model):
            call_params = model_params(self.settings, candidate, params)
            recorded_params = public_params(call_params)
            # Counting tokens costs CPU on every call: only a tokens-per-minute limit needs it.
            estimate = (
                count_message_tokens(messages, candidate, call_params)
                + int(call_params.get("max_tokens") or 0)
                if self.limiter.counts_tokens(candidate)
                else 0
            )
            for retry in range(self.settings.gateway.max_retries + 1):
                started_at = utc_now()
                async with self.limiter.slot(candidate, estimate) as slot:
                    started = time.perf_counter()
                    try:
                        result = await call(
                            candidate,
                            messages,
                            params=call_params,
                            timeout=model_timeout(self.settings, candidate),
                        )
                    except asyncio.CancelledError:
                        # The caller gave up (closed a stream, cancelled a run): the attempt
                        # still happened and may be billed, so it is recorded before leaving.
                        row = row_of(
                            len(attempts) + 1, candidate, started_at, recorded_params, slot.waited_s
                        )
                        text = partial() if partial else ""
                        # A store already closed (the app is exiting) must not turn the
                        # cancellation into another error.
                        with contextlib.suppress(StoreError):
                            mark_cancelled(
                                row, messages, text, started, self._price_at, call_params
                            )
                            record(row)
                        raise
                    except Exception as error:  # every provider failure is recorded, not raised
                        broken = isinstance(error, StreamBroken)
                        found = classify(error.cause if isinstance(error, StreamBroken) else error)
                        failure = replace(found, message=redactor.text(found.message))
                        latency_ms = (time.perf_counter() - started) * 1000
                    else:
                        failure = None
                row = row_of(
                    len(attempts) + 1, candidate, started_at, recorded_params, slot.waited_s
                )
                if failure is None:
                    self.limiter.settle(candidate, estimate, result.usage.total_tokens)
                    override = self._override(started_at, candidate, result.model)
                    if override:
                        result = replace(
                            result, cost=cost_of(result.usage, override), price=override
                        )
                    stored_response = result.text
                    output: AnswerVerdict | None = None
                    if guard_context is not None:
                        # The answer's text and its tool calls' arguments (tool_guarding.py).
                        output = guard_answer(
                            self.guard,
                            result,
                            messages,
                            guard_context,
                            # Provider keys are found by their formats; the call's own key by
                            # its value (the recorder masks the environment's when storing).
                            known_secrets=call_secrets,
                            streamed=partial is not None,
                        )
                        result = output.result
                        stored_response = output.stored_text
                        row.update(guard_columns(input_flags + output.flags))
                    mark_answered(row, result, stored_response)
                    if output is not None:
                        row["tool_calls"] = tool_calls_column(output.stored_tool_calls)
                    if output is not None and output.blocked:
                        # Billed, so tokens and cost stay; the answer never reaches the caller.
                        mark_withheld(row, output.reason)
                        record(row)
                        attempts.append(
                            Attempt(candidate, "blocked", "guard_output", output.reason, 0.0)
                        )
                        raise GuardBlocked(
                            request_id, attempts, "output", output.reason, output.flags
                        )
                    ids = record(row)
                    if cached is not None:
                        self.cache.put_result(cached, candidate, result)
                    attempts.append(Attempt(candidate, "ok", None, None, slot.waited_s))
                    return GatewayResult(result, request_id, model, tuple(attempts), ids)
                last = failure
                note = beyond_patience(failure, self.settings.gateway.retry_patience_s)
                message = failure.message + note if note else failure.message
                mark_failed(row, failure, message, latency_ms)
                record(row)
                attempts.append(
                    Attempt(candidate, failure.call_status, failure.kind, message, slot.waited_s)
                )
                if broken:  # text already reached the caller: neither retried nor fallen back
                    raise GatewayError(request_id, attempts, failure)
                if note or not failure.retryable or retry == self.settings.gateway.max_retries:
                    break
                await self._sleep(backoff_delay(retry + 1, failure.retry_after_s, self._rng))
        assert last is not None
        raise GatewayError(request_id, attempts, last)
