"""A litellm CustomLogger that records an app's own litellm calls into an llmbench database.

An app that already calls litellm adds `litellm.callbacks = [LLMBenchLogger()]` and changes
nothing else: every success and failure (sync, async, streamed) becomes one audit row, sealed
onto the same hash chain as the gateway's. Nothing here may raise into the host app, and
nothing here reconfigures litellm (no retries switched off, no providers registered).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, wait
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmbench.builtin_models.simulator import PROVIDER as SIMULATOR_PROVIDER
from llmbench.core.costs.pricing import cost_of
from llmbench.gateway.attempt_rows import TAG_COLUMNS, price_columns
from llmbench.gateway.callback_answer import (
    LoggedAnswer,
    get,
    logged_answer,
    logged_price,
    priced_usage,
    reported_usage,
)
from llmbench.gateway.callback_guard import logged_call_flags
from llmbench.gateway.errors import classify
from llmbench.gateway.guarding import Guard, guard_columns
from llmbench.gateway.litellm_stream_usage import stream_usage_reported
from llmbench.gateway.litellm_threads import THREAD_METADATA, thread_columns
from llmbench.gateway.otel_spans import configured_sink
from llmbench.gateway.recorder import (
    AuditRecorder,
    Durability,
    RowWrite,
    durability_of,
    finished,
)
from llmbench.gateway.tool_calls import tool_calls_column
from llmbench.paths import resolve_db_path
from llmbench.store.db import Store, StoreError, open_db

if TYPE_CHECKING:
    from llmbench.config import GuardSettings

log = logging.getLogger(__name__)

# litellm (and its Router) put their own bookkeeping into the caller's metadata dict: never
# record it as tags.
_LITELLM_METADATA = frozenset(
    {
        "hidden_params",
        "llm_api_timing_windows",
        "model_group",
        "model_group_alias",
        "model_group_size",
        "original_model_group",
        "deployment",
        "deployment_model_name",
        "api_base",
        "attempted_retries",
        "attempted_fallbacks",
        "request_retry_count",
        "max_retries",
        "caching_groups",
    }
)
_SECRET_PARAM_MARKERS = ("key", "token", "secret", "authorization", "headers")
_REMEMBERED_CALLS = 4096
Landed = Future[None]  # settles once an event's row is committed, refused, or not queued


def _custom_logger() -> type:
    # Imported here, after `llmbench` has set litellm's offline environment (an import at the
    # top would be sorted before it). Only an app that embeds this logger pays litellm's import.
    from litellm.integrations.custom_logger import CustomLogger

    return CustomLogger


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()  # litellm's naive datetimes are local time, as timestamp() reads
    return None


def _public_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in params.items()
        if not any(marker in name.lower() for marker in _SECRET_PARAM_MARKERS)
        and value not in (None, {}, [])
    }


def _keeps_media_bytes() -> bool:
    """[retention] keep_media_bytes of the user's config (off when it cannot be read)."""
    from llmbench.config import ConfigError, load_settings

    try:
        return load_settings().retention.keep_media_bytes
    except ConfigError as error:
        log.warning("llmbench: %s; the bytes of media parts are not kept", error)
        return False


class LLMBenchLogger(_custom_logger()):  # type: ignore[misc]
    """Records every litellm call of the host app into an llmbench database.

    `db` is resolved as the CLI's --db is (then LLMBENCH_DB, then the data dir); a `store`
    already open is used as is and left open by close(). `tags` apply to every call; a call's
    litellm `metadata` adds or overrides them (feature, team, customer, task_type, user go to
    their own columns, anything else into the tags JSON).

    The guards of the config's [guard] (or `guard` given) look at each logged call (its
    messages, its answer's text and its tool calls' arguments, gateway/callback_guard.py): the
    call has happened already, so what they find is recorded as flags, never blocked or
    redacted. Audio and images are priced as the gateway prices them (callback_answer.py).

    `durability="durable"` (the default): each litellm hook returns only once its row is
    committed. "async": a hook returns once its row is queued, so a crash can lose the last
    calls. Either way nothing is raised into the app: a call that cannot be recorded (the file
    read-only, the disk full) is counted in `unrecorded` and logged as one warning, again only
    after a row has been written since.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        store: Store | None = None,
        tags: Mapping[str, str] | None = None,
        guard: GuardSettings | None = None,
        durability: Durability = "durable",
    ) -> None:
        super().__init__()
        self._durability = durability_of(durability)
        self.unrecorded = 0
        """How many calls could not be recorded (the database refused or could not be opened)."""
        self._warned = False
        self._guard_settings = guard
        self._guard: Guard | None = None
        self._db = db
        self._store = store
        self._owns_store = store is None
        self._tags = dict(tags or {})
        self._recorder: AuditRecorder | None = None
        self._lock = threading.Lock()
        # litellm_call_id -> the (start, failed) events recorded for it, in arrival order, each
        # with the future its row settles (a second delivery of the event waits on it).
        self._attempts: OrderedDict[str, dict[tuple[float, bool], Landed]] = OrderedDict()
        self._closed = False

    # -- the database, opened on the first event ---------------------------------------------
    @property
    def recorder(self) -> AuditRecorder:
        with self._lock:
            if self._closed:
                raise RuntimeError("this LLMBenchLogger is closed")
            if self._recorder is None:
                if self._store is None:
                    self._store = open_db(resolve_db_path(self._db))
                self._recorder = AuditRecorder(self._store, keep_media_bytes=_keeps_media_bytes())
            return self._recorder

    @property
    def store(self) -> Store:
        return self.recorder.store

    @property
    def guard(self) -> Guard:
        if self._guard is None:
            settings = self._guard_settings
            if settings is None:
                from llmbench.config import ConfigError, GuardSettings, load_settings

                try:
                    settings = load_settings().guard
                except ConfigError as error:
                    log.warning("llmbench guard: %s; using the default policy", error)
                    settings = GuardSettings()
            self._guard = Guard(settings)
        return self._guard

    def flush(self) -> None:
        """Wait until every call recorded so far is on disk (or refused: counted in
        `unrecorded` and warned about already, never raised)."""
        if self._recorder is not None:
            with contextlib.suppress(Exception):
                self._recorder.flush()

    def close(self) -> None:
        """Flush, then close the database if this logger opened it."""
        try:
            self.flush()
        finally:
            with self._lock:
                # litellm keeps a logger in its own callback lists even after the app removes
                # it from litellm.callbacks: a late event must not reopen the file.
                self._closed = True
                if self._owns_store and self._store is not None:
                    self._store.close()
                    self._store = None
                self._recorder = None

    # -- litellm's hooks ---------------------------------------------------------------------
    # litellm runs a sync success hook in its thread pool, after the app has its answer, and a
    # sync failure hook in the app's thread before raising: "durable" holds that raise until
    # the failure is on disk.
    def log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._wait(self._safely(kwargs, response_obj, start_time, end_time, failed=False))

    def log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._wait(self._safely(kwargs, response_obj, start_time, end_time, failed=True))

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        await self._await(self._safely(kwargs, response_obj, start_time, end_time, failed=False))

    async def async_log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        await self._await(self._safely(kwargs, response_obj, start_time, end_time, failed=True))

    def _wait(self, landed: Landed | None) -> None:
        if landed is not None and self._durability == "durable":
            wait([landed])

    async def _await(self, landed: Landed | None) -> None:
        if landed is not None and self._durability == "durable":
            await finished(landed)

    def _written(self, written: RowWrite) -> None:
        """Count and warn about a refused row (on the writer thread; never raises)."""
        error = None if written.cancelled() else written.exception()
        if error is None:
            self._warned = False  # the file takes writes again: a new refusal is news
        else:
            self._not_recorded(error)

    def _not_recorded(self, error: BaseException) -> None:
        with self._lock:
            self.unrecorded += 1
            warn, self._warned = not self._warned, True
        if warn:
            log.warning(
                "llmbench could not record a litellm call: %s; the call itself went through. "
                "Later failures are counted in LLMBenchLogger.unrecorded until a call is "
                "recorded again.",
                error,
            )

    # -- building the row --------------------------------------------------------------------
    def _safely(
        self, kwargs: Any, response: Any, start_time: Any, end_time: Any, *, failed: bool
    ) -> Landed | None:
        """Queue the event's row. The future settles once the row is committed or refused (for
        an event litellm delivers twice, once the first delivery's is). Never raises."""
        landed: Landed | None = None
        mine: Landed | None = None  # this delivery's, which it must settle
        written: RowWrite | None = None
        try:
            if self._closed:
                log.debug("llmbench logger is closed: a litellm call was not recorded")
                return None
            if not isinstance(kwargs, Mapping):
                return None
            started = _started(kwargs, start_time)
            attempt, landed = self._attempt(kwargs, started, failed)
            if attempt is None:
                return landed
            mine = landed
            answer = None if failed else logged_answer(response)
            row, secrets = self._row(kwargs, response, answer, started, end_time)
            row["attempt"] = attempt
            messages = kwargs.get("messages")
            if isinstance(messages, list):
                sent = [message for message in messages if isinstance(message, Mapping)]
                # The answer's text and each tool call's arguments, as the gateway guards them.
                calls = answer.tool_calls if answer is not None else ()
                flags = logged_call_flags(self.guard, sent, row.get("response"), calls, secrets)
                row.update(guard_columns(flags))
            recorder = self.recorder
            redactor = recorder.redactor(secrets)
            written = recorder.record(row, redactor)
            configured_sink().emit(row, redactor)  # [otel]: the row also goes out as a span
            written.add_done_callback(self._written)
        except StoreError as error:  # the file cannot be opened or written
            self._not_recorded(error)
        except Exception:  # the host app's call must never fail because of its audit log
            log.exception("llmbench could not record a litellm call")
        finally:
            if mine is not None:  # settled on every way out: a second delivery waits on it
                if written is None:
                    mine.set_result(None)
                else:
                    written.add_done_callback(lambda _: mine.set_result(None))
        return landed

    def _attempt(
        self, kwargs: Mapping[str, Any], started: float, failed: bool
    ) -> tuple[int | None, Landed]:
        """The attempt number of this event and the future its row will settle; None and the
        first delivery's future when it was recorded already (litellm may deliver one event
        both to the sync and the async hook).

        An app that retries passes the same litellm_call_id again: each distinct start under
        one id is the next attempt. A Router gives each attempt its own id and lists the failed
        ones before it in the metadata's previous_models. litellm's own num_retries (without a
        Router) retries inside the provider's SDK and then on the first attempt's logging
        object, so callbacks see such a call as one event: it stays one attempt."""
        call_id = kwargs.get("litellm_call_id")
        previous = get(_metadata(kwargs), "previous_models")
        by_router = len(previous) + 1 if isinstance(previous, list | tuple) else 1
        if not call_id:
            return by_router, Future()
        event = (started, failed)
        with self._lock:
            events = self._attempts.setdefault(str(call_id), {})
            self._attempts.move_to_end(str(call_id))
            if event in events:
                return None, events[event]
            landed = events[event] = Future()
            while len(self._attempts) > _REMEMBERED_CALLS:
                self._attempts.popitem(last=False)
            starts = list(dict.fromkeys(start for start, _ in events))
        return max(by_router, starts.index(started) + 1), landed

    def _tags_for(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        metadata = _metadata(kwargs)
        call_tags = {
            str(name): value
            for name, value in metadata.items()
            if name not in _LITELLM_METADATA
            and name not in THREAD_METADATA
            and isinstance(value, str | int | float | bool)
        }
        if "model_group" in metadata and kwargs.get("litellm_trace_id"):
            # A Router's retries and fallbacks are separate litellm calls with their own ids;
            # the trace id they share is what groups them into one request.
            call_tags["trace_id"] = str(kwargs["litellm_trace_id"])
        return {**self._tags, **call_tags}

    def _row(
        self,
        kwargs: Mapping[str, Any],
        response: Any,
        answer: LoggedAnswer | None,
        started: float,
        end_time: Any,
    ) -> tuple[dict[str, Any], list[str]]:
        """The event's row, and the secrets to mask in it; `answer` is None for a failure."""
        slo: Mapping[str, Any] = kwargs.get("standard_logging_object") or {}
        litellm_params = kwargs.get("litellm_params") or {}
        provider = str(kwargs.get("custom_llm_provider") or slo.get("custom_llm_provider") or "")
        model = str(kwargs.get("model") or slo.get("model") or "")
        requested = (
            f"{provider}/{model}" if provider and not model.startswith(f"{provider}/") else model
        )
        ended = _epoch(slo.get("endTime")) or _epoch(end_time)
        streamed = bool(kwargs.get("stream") or slo.get("stream"))
        params = slo.get("model_parameters") or kwargs.get("optional_params") or {}
        tags = self._tags_for(kwargs)
        secrets = [
            str(value)
            for value in (kwargs.get("api_key"), litellm_params.get("api_key"))
            if isinstance(value, str) and value
        ]
        row: dict[str, Any] = {
            "ts": _iso(started),
            "request_id": str(kwargs.get("litellm_call_id") or slo.get("id") or ""),
            "model_requested": requested,
            "model": requested,
            "provider": provider,
            "messages": json.dumps(kwargs.get("messages") or [], ensure_ascii=False, default=str),
            "params": json.dumps(_public_params(params), sort_keys=True, default=str),
            "latency_ms": (ended - started) * 1000 if ended is not None else None,
            **thread_columns(kwargs),
            **{column: _text(tags.get(column)) for column in TAG_COLUMNS},
            "tags": json.dumps(
                {k: v for k, v in tags.items() if k not in TAG_COLUMNS}, sort_keys=True
            ),
        }
        if answer is None:
            error = kwargs.get("exception")
            if isinstance(error, BaseException):
                failure = classify(error)
                row.update(status=failure.call_status, error_kind=failure.kind, error=str(error))
            else:
                row.update(status="error", error_kind="server", error=slo.get("error_str"))
            return row, secrets
        answered = get(response, "model")
        if answered and requested.endswith(f"/{answered}"):
            answered = requested  # providers answer without litellm's provider prefix
        text = answer.text
        usage = reported_usage(response, slo)
        if (
            streamed
            and provider != SIMULATOR_PROVIDER  # the simulator always ends streams with counts
            and not stream_usage_reported(kwargs, params, usage, text)
        ):
            usage = replace(usage, estimated=True)
        price = logged_price(requested, provider, get(response, "model"))
        # Audio at its own rates, images per image where the price says so, as the gateway.
        usage = priced_usage(usage, price, kwargs.get("messages"), requested)
        cost = cost_of(usage, price)
        hit = bool(kwargs.get("cache_hit"))
        first_token = _epoch(slo.get("completionStartTime")) or _epoch(
            kwargs.get("completion_start_time")
        )
        row.update(
            model=str(answered or requested),
            response=text,
            tool_calls=tool_calls_column(answer.tool_calls),
            finish_reason=answer.finish_reason,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cache_write_tokens=None if hit else usage.cache_write_tokens,
            tokens_estimated=int(usage.estimated),
            # A hit of litellm's own cache costs nothing: what it would have cost is saved.
            cost=0.0 if hit and cost is not None else cost,
            saving=(cost or 0.0) if hit else 0.0,
            **price_columns(price),
            # Only a stream has a first token distinct from the whole answer.
            ttft_ms=(first_token - started) * 1000 if streamed and first_token else None,
            status="cache_hit" if hit else "ok",
        )
        return row, secrets


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _metadata(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    litellm_params = kwargs.get("litellm_params") or {}
    return litellm_params.get("metadata") or kwargs.get("metadata") or {}


def _started(kwargs: Mapping[str, Any], start_time: Any) -> float:
    slo: Mapping[str, Any] = kwargs.get("standard_logging_object") or {}
    return _epoch(slo.get("startTime")) or _epoch(start_time) or datetime.now(UTC).timestamp()
