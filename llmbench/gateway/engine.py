"""The gateway: every model call with retries, fallback, rate limits and one audit record per
attempt.

Retries belong to the gateway (litellm's are off) so every attempt is recorded: exponential
backoff with jitter, never sooner than a provider's Retry-After, and a clear report instead of
a loop when Retry-After is longer than the configured patience. When a model gives up, the next
model of its fallback chain is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, Unpack

from llmbench.config import Settings
from llmbench.core.audit.redact import Redactor
from llmbench.core.costs.pricing import DatedPrice, PriceTable, cost_of
from llmbench.core.models import Price, Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.core.traffic.ratelimit import ModelLimits, RateLimiter
from llmbench.core.traffic.routing import Route, RouteError, decide, merge_routes
from llmbench.gateway import client
from llmbench.gateway.errors import Failure, classify
from llmbench.gateway.guarding import Guard, GuardContext, guard_columns
from llmbench.gateway.recorder import AuditRecorder
from llmbench.gateway.response_cache import CacheHit, CacheRequest, ResponseCache, cache_mode
from llmbench.store.costs.prices import load_price_table
from llmbench.store.db import StoreError
from llmbench.store.routes import load_routes

TAG_COLUMNS = ("feature", "team", "customer", "task_type", "user")
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
# `llmbench prices set` in another process reaches a running gateway within this many seconds.
PRICE_REFRESH_S = 30.0
# `llmbench routes set|delete` in another process reaches a running gateway within this long.
ROUTE_REFRESH_S = 30.0
# Config overrides apply from the beginning of time; a dated price in the database wins after.
CONFIG_PRICE_DATE = "0001-01-01"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Attempt:
    model: str
    status: str
    error_kind: str | None
    error: str | None
    waited_s: float


@dataclass(frozen=True)
class GatewayResult:
    completion: client.CompletionResult
    request_id: str
    model_requested: str
    attempts: tuple[Attempt, ...]
    _call_ids: Future[list[int]] = field(repr=False, compare=False)
    cache: str | None = None  # on a cache hit, its kind: exact, normalised or semantic

    @property
    def text(self) -> str:
        return self.completion.text

    @property
    def call_id(self) -> int:
        """The audit row of the answering attempt (waits for the writer if need be)."""
        return self._call_ids.result()[0]


class RequestOptions(TypedDict, total=False):
    """What a request carries besides model and messages (complete() and stream() alike)."""

    params: Mapping[str, Any] | None
    tags: Mapping[str, str] | None
    prompt_version_id: int | None
    run_id: int | None
    prompt: str | None  # the prompt name, for routes that apply to one prompt
    arm: str | None  # the arm a caller that routed itself chose
    route: bool  # False when the caller routed already


class StreamBroken(Exception):
    """A stream failed after some of its text reached the caller."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


AttemptCall = Callable[
    [str, Sequence[Mapping[str, Any]], dict[str, Any], float], Awaitable[client.CompletionResult]
]


class GatewayError(RuntimeError):
    """Every attempt of every model in the chain failed; each one was recorded."""

    def __init__(self, request_id: str, attempts: Sequence[Attempt], last: Failure) -> None:
        self.request_id = request_id
        self.attempts = tuple(attempts)
        self.failure = last
        tried = ", ".join(dict.fromkeys(a.model for a in attempts))
        super().__init__(
            f"{last.kind}: {len(attempts)} attempt(s) on {tried} failed; last: {last.message}"
        )


class GuardBlocked(GatewayError):
    """A guard's policy blocked the request (stage "input": no provider call) or withheld the
    answer (stage "output": the provider answered and billed). Recorded with status blocked."""

    def __init__(
        self,
        request_id: str,
        attempts: Sequence[Attempt],
        stage: str,
        reason: str,
        flags: Sequence[Mapping[str, Any]],
    ) -> None:
        self.stage = stage
        self.reason = reason
        self.flags = tuple(flags)
        message = (
            f"blocked by the input guard: {reason}"
            if stage == "input"
            else f"the answer was withheld by the output guard: {reason}"
        )
        self.request_id = request_id
        self.attempts = tuple(attempts)
        self.failure = Failure("content_filter", message, None, None)
        RuntimeError.__init__(self, message)


def backoff_delay(retry: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter, and never sooner than Retry-After."""
    jittered = rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (retry - 1)))
    return max(jittered, retry_after or 0.0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now_iso() -> str:
    return _iso(datetime.now(UTC))


class Gateway:
    def __init__(
        self,
        recorder: AuditRecorder,
        settings: Settings,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.recorder = recorder
        self.settings = settings
        self.transport: client.Transport = (
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

    def _cache_hit(
        self,
        hit: CacheHit,
        model: str,
        base: Mapping[str, Any],
        extra_tags: Mapping[str, Any],
        redactor: Redactor,
        started: float,
        started_at: str,
    ) -> GatewayResult:
        found = hit.answer
        usage = Usage(**found["usage"])
        result = client.CompletionResult(
            text=found["text"],
            finish_reason=found["finish_reason"],
            model=found["model"],
            usage=usage,
            cost=0.0,
            latency_ms=(time.perf_counter() - started) * 1000,
            ttft_ms=None,
        )
        tags = {**extra_tags, "cache": hit.kind, "cache_key": hit.key[:16]}
        if hit.similarity is not None:
            tags["cache_similarity"] = hit.similarity
        row = {
            **base,
            "ts": started_at,
            "attempt": 1,
            "model": found["model"],
            "provider": "cache",
            "tags": json.dumps(tags, sort_keys=True),
            "response": result.text,
            "finish_reason": result.finish_reason,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cached_tokens": usage.cached_tokens,
            "cost": 0.0,
            # What the call would have cost now: the money the cache saved.
            "saving": found.get("cost") or 0.0,
            "latency_ms": result.latency_ms,
            "status": "cache_hit",
        }
        ids = self.recorder.record(row, redactor)
        self.cache.count_hit(hit.key)
        attempt = Attempt(found["model"], "cache_hit", None, None, 0.0)
        return GatewayResult(
            result, str(base["request_id"]), model, (attempt,), ids, cache=hit.kind
        )

    def _store_in_cache(
        self, request: CacheRequest, model: str, result: client.CompletionResult
    ) -> None:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.settings.gateway.cache_ttl_s)
        answer = {
            "text": result.text,
            "finish_reason": result.finish_reason,
            "model": result.model,
            "usage": asdict(result.usage),
            "cost": result.cost,
        }
        self.cache.put(request, model, answer, _iso(now), _iso(expires))

    def chain(self, model: str) -> list[str]:
        options = self.settings.model.get(model)
        return [model, *(options.fallbacks if options else ())]

    def _timeout(self, model: str) -> float:
        options = self.settings.model.get(model)
        return (options.timeout_s if options and options.timeout_s else None) or (
            self.settings.gateway.timeout_s
        )

    def _params(self, model: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = dict(params or {})
        options = self.settings.model.get(model)
        if options and options.api_base and "api_base" not in merged:
            merged["api_base"] = options.api_base
        return merged

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

        async def call(
            candidate: str,
            sent: Sequence[Mapping[str, Any]],
            call_params: dict[str, Any],
            timeout: float,
        ) -> Any:
            return await client.complete(
                candidate, sent, params=call_params, timeout=timeout, transport=self.transport
            )

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
            call_params: dict[str, Any],
            timeout: float,
        ) -> Any:
            received.clear()
            # Closed on every way out (a cancel too), so the provider's response is released.
            async with contextlib.aclosing(
                client.stream(
                    candidate, sent, params=call_params, timeout=timeout, transport=self.transport
                )
            ) as pieces:
                try:
                    async for piece in pieces:
                        if isinstance(piece, client.CompletionResult):
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
        guard_context: GuardContext | None = None
        stored_messages: Sequence[Mapping[str, Any]] = messages
        input_flags: tuple[dict[str, Any], ...] = ()
        blocked_because: str | None = None
        guard_started = time.perf_counter()
        if self.guard.enabled:
            guard_context = self.guard.context(prompt_version_id)
            verdict = self.guard.check_input(messages, guard_context, model)
            messages, stored_messages = verdict.messages, verdict.stored_messages
            input_flags = verdict.flags
            blocked_because = verdict.reason if verdict.blocked else None
        base = {
            "request_id": request_id,
            "model_requested": model,
            "prompt_version_id": prompt_version_id,
            "run_id": run_id,
            "arm": arm,
            "messages": json.dumps(list(stored_messages), ensure_ascii=False),
            **{column: tags.get(column) for column in TAG_COLUMNS},
            **guard_columns(input_flags),
        }
        extra_tags = {k: v for k, v in tags.items() if k not in TAG_COLUMNS}
        if blocked_because is not None:
            public = {k: v for k, v in (params or {}).items() if k != "api_key"}
            row = {**base, "params": json.dumps(public, sort_keys=True, default=str)}
            self._record_blocked(row, extra_tags, model, blocked_because, guard_started, redactor)
            attempt = Attempt(model, "blocked", "guard_input", blocked_because, 0.0)
            raise GuardBlocked(request_id, [attempt], "input", blocked_because, input_flags)
        mode = cache_mode(cache)
        cached: CacheRequest | None = None
        if mode is not None:
            started, started_at = time.perf_counter(), _now_iso()
            cached = self.cache.request(mode, model, messages, params or {})
            hit, cached = await self.cache.lookup(cached, model, messages, params or {}, started_at)
            if hit is not None:
                return self._cache_hit(hit, model, base, extra_tags, redactor, started, started_at)
        attempts: list[Attempt] = []
        last: Failure | None = None

        def attempt_row(
            candidate: str, started_at: str, public_params: Mapping[str, Any], waited_s: float
        ) -> dict[str, Any]:
            return {
                **base,
                "ts": started_at,
                "attempt": len(attempts) + 1,
                "model": candidate,
                "provider": candidate.split("/", 1)[0] if "/" in candidate else "",
                "params": json.dumps(public_params, sort_keys=True, default=str),
                "tags": json.dumps(
                    {**extra_tags, "queue_wait_ms": round(waited_s * 1000, 1)}
                    if waited_s
                    else extra_tags,
                    sort_keys=True,
                ),
            }

        for candidate in self.chain(model):
            call_params = self._params(candidate, params)
            public_params = {k: v for k, v in call_params.items() if k != "api_key"}
            # Counting tokens costs CPU on every call: only a tokens-per-minute limit needs it.
            estimate = (
                count_message_tokens(messages, candidate) + int(call_params.get("max_tokens") or 0)
                if self.limiter.counts_tokens(candidate)
                else 0
            )
            for retry in range(self.settings.gateway.max_retries + 1):
                started_at = _now_iso()
                async with self.limiter.slot(candidate, estimate) as slot:
                    started = time.perf_counter()
                    try:
                        result = await call(
                            candidate, messages, call_params, self._timeout(candidate)
                        )
                    except asyncio.CancelledError:
                        # The caller gave up (closed a stream, cancelled a run): the attempt
                        # still happened and may be billed, so it is recorded before leaving.
                        row = attempt_row(candidate, started_at, public_params, slot.waited_s)
                        text = partial() if partial else ""
                        # A store already closed (the app is exiting) must not turn the
                        # cancellation into another error.
                        with contextlib.suppress(StoreError):
                            self._record_cancelled(row, messages, text, started, redactor)
                        raise
                    except Exception as error:  # every provider failure is recorded, not raised
                        broken = isinstance(error, StreamBroken)
                        found = classify(error.cause if isinstance(error, StreamBroken) else error)
                        failure = replace(found, message=redactor.text(found.message))
                        latency_ms = (time.perf_counter() - started) * 1000
                    else:
                        failure = None
                row = attempt_row(candidate, started_at, public_params, slot.waited_s)
                if failure is None:
                    usage = result.usage
                    self.limiter.settle(candidate, estimate, usage.total_tokens)
                    override = self._override(started_at, candidate, result.model)
                    price = override or result.price
                    cost = cost_of(usage, override) if override else result.cost
                    result = replace(result, cost=cost, price=price)
                    stored_response = result.text
                    output = None
                    if guard_context is not None:
                        output = self.guard.check_output(
                            result.text,
                            messages,
                            guard_context,
                            # Provider keys are found by their formats; the call's own key by
                            # its value (the recorder masks the environment's when storing).
                            known_secrets=call_secrets,
                            streamed=partial is not None,
                        )
                        result = replace(result, text=output.text)
                        stored_response = output.stored_text
                        row.update(guard_columns(input_flags + output.flags))
                    row.update(
                        model=result.model,
                        response=stored_response,
                        finish_reason=result.finish_reason,
                        prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens,
                        cached_tokens=usage.cached_tokens,
                        tokens_estimated=int(usage.estimated),
                        cost=cost,
                        input_price=price.input if price else None,
                        output_price=price.output if price else None,
                        cached_price=price.cached if price else None,
                        latency_ms=result.latency_ms,
                        ttft_ms=result.ttft_ms,
                        status="ok",
                    )
                    if output is not None and output.blocked:
                        # Billed, so tokens and cost stay; the answer never reaches the caller.
                        row.update(
                            status="blocked",
                            error_kind="guard_output",
                            error=f"output withheld by the guard: {output.reason}",
                        )
                        self.recorder.record(row, redactor)
                        attempts.append(
                            Attempt(candidate, "blocked", "guard_output", output.reason, 0.0)
                        )
                        raise GuardBlocked(
                            request_id, attempts, "output", output.reason, output.flags
                        )
                    ids = self.recorder.record(row, redactor)
                    if cached is not None:
                        self._store_in_cache(cached, candidate, result)
                    attempts.append(Attempt(candidate, "ok", None, None, slot.waited_s))
                    return GatewayResult(result, request_id, model, tuple(attempts), ids)
                last = failure
                patience = self.settings.gateway.retry_patience_s
                too_long = failure.retry_after_s is not None and failure.retry_after_s > patience
                message = failure.message
                if too_long:
                    message += (
                        f" [Retry-After {failure.retry_after_s:g} s exceeds the patience of "
                        f"{patience:g} s: not retried]"
                    )
                row.update(
                    status=failure.call_status,
                    error_kind=failure.kind,
                    error=message,
                    latency_ms=latency_ms,
                )
                self.recorder.record(row, redactor)
                attempts.append(
                    Attempt(candidate, failure.call_status, failure.kind, message, slot.waited_s)
                )
                if broken:  # text already reached the caller: neither retried nor fallen back
                    raise GatewayError(request_id, attempts, failure)
                if too_long or not failure.retryable or retry == self.settings.gateway.max_retries:
                    break
                await self._sleep(backoff_delay(retry + 1, failure.retry_after_s, self._rng))
        assert last is not None
        raise GatewayError(request_id, attempts, last)

    def _record_blocked(
        self,
        base: Mapping[str, Any],
        extra_tags: Mapping[str, Any],
        model: str,
        reason: str,
        started: float,
        redactor: Redactor,
    ) -> None:
        """The one row of a request the input guard blocked: no provider was called."""
        self.recorder.record(
            {
                **base,
                "ts": _now_iso(),
                "attempt": 1,
                "model": model,
                "provider": model.split("/", 1)[0] if "/" in model else "",
                "tags": json.dumps(dict(extra_tags), sort_keys=True),
                "status": "blocked",
                "error_kind": "guard_input",
                "error": f"blocked by the input guard: {reason}",
                "latency_ms": (time.perf_counter() - started) * 1000,
            },
            redactor,
        )

    def _record_cancelled(
        self,
        row: dict[str, Any],
        messages: Sequence[Mapping[str, Any]],
        text: str,
        started: float,
        redactor: Redactor,
    ) -> None:
        """A cancelled attempt: status error, error_kind cancelled; when text had arrived, the
        tokens so far (estimated offline, the provider sent no usage) and what they cost."""
        row.update(
            status="error",
            error_kind="cancelled",
            error=(
                f"cancelled by the caller after {len(text)} characters of the answer"
                if text
                else "cancelled by the caller before an answer"
            ),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        if text:
            model = str(row["model"])
            usage = Usage(
                prompt_tokens=count_message_tokens(messages, model),
                completion_tokens=count_tokens(text, model),
                estimated=True,
            )
            price = self._override(str(row["ts"]), model) or client.price_for(model)
            row.update(
                response=text,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                tokens_estimated=1,
                cost=cost_of(usage, price),
                input_price=price.input if price else None,
                output_price=price.output if price else None,
                cached_price=price.cached if price else None,
            )
        self.recorder.record(row, redactor)
