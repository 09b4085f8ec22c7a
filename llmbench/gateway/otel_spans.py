"""Recorded calls out as OpenTelemetry spans over OTLP/HTTP, with the OpenTelemetry project's
own SDK and exporter (the `otel` extra). The attributes come from core/audit/genai_spans.py.

Live ([otel] endpoint set): the gateway and the litellm callback hand each recorded row to a
`SpanSink`, which turns it into a finished span and puts it on the SDK's BatchSpanProcessor: a
bounded queue (the oldest span dropped, and counted, when it is full) that a background thread
exports in batches, the exporter retrying with backoff within `timeout_s`. The caller only ever
pays for building the span: a collector that is slow, down or unreachable never holds it up.

History (`llmbench export otel`): `SpanBatches` sends rows in batches and waits for each, so the
command knows what the collector took.

Nothing here is imported until [otel] is configured or the command runs: this module's top
needs only the standard library, and the SDK is imported when a sink or batch is first built.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmbench.core.audit.genai_spans import SCHEMA_URL, AttributeValue, GenAISpan, span_of

if TYPE_CHECKING:
    from llmbench.config import OtelSettings
    from llmbench.core.audit.redact import Redactor

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
_SCOPE = "llmbench"
# How long the process's exit waits for the spans still queued: enough for a collector that
# answers; a dead one's retries are cut short then.
_EXIT_WAIT_S = 2.0


def traces_url(endpoint: str) -> str:
    """The collector's base URL gets OTLP's traces path; a URL with a path is used as given."""
    path = urlsplit(endpoint).path
    return endpoint.rstrip("/") + TRACES_PATH if path in ("", "/") else endpoint


@dataclass(frozen=True)
class Destination:
    """Where spans go and what they carry."""

    endpoint: str
    headers: tuple[tuple[str, str], ...] = ()
    include_bodies: bool = False
    service_name: str = "llmbench"
    timeout_s: float = 10.0
    max_queue_size: int = 2048

    @classmethod
    def of(cls, settings: OtelSettings) -> Destination:
        return cls(
            settings.endpoint,
            tuple(sorted(settings.headers.items())),
            settings.include_bodies,
            settings.service_name,
            settings.timeout_s,
            settings.max_queue_size,
        )


# The attributes made of what the caller passed (bodies, tags, ids, stop sequences): masked
# as the recorder masks those columns. The others are llmbench's own values and numbers.
_CALLERS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.conversation.id",
        "gen_ai.request.stop_sequences",
        "llmbench.arm",
        "llmbench.trace_id",
        "llmbench.parent_request_id",
    }
)


def _masked(
    attributes: Mapping[str, AttributeValue], redactor: Redactor
) -> dict[str, AttributeValue]:
    return {
        name: _redacted(value, redactor)
        if name in _CALLERS or name.startswith("llmbench.tag.")
        else value
        for name, value in attributes.items()
    }


def _redacted(value: AttributeValue, redactor: Redactor) -> AttributeValue:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, tuple):
        return tuple(redactor.text(item) for item in value)
    return value


class _Builder:
    """GenAISpan → the SDK's ReadableSpan, under one resource and instrumentation scope."""

    def __init__(self, destination: Destination) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        try:
            own_version = version("llmbench")
        except PackageNotFoundError:  # a source checkout that was never installed
            own_version = "0"
        self.resource = Resource.create({"service.name": destination.service_name})
        self.scope = InstrumentationScope(_SCOPE, own_version, SCHEMA_URL)

    def readable(self, span: GenAISpan, attributes: Mapping[str, AttributeValue]) -> Any:
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        sampled = TraceFlags(TraceFlags.SAMPLED)
        parent = (
            SpanContext(span.trace_id, span.parent_span_id, is_remote=True, trace_flags=sampled)
            if span.parent_span_id is not None
            else None
        )
        return ReadableSpan(
            name=span.name,
            context=SpanContext(span.trace_id, span.span_id, is_remote=False, trace_flags=sampled),
            parent=parent,
            resource=self.resource,
            attributes=dict(attributes),
            kind=SpanKind.CLIENT,
            status=Status(StatusCode.ERROR, span.error_type) if span.failed else Status(),
            start_time=span.start_ns,
            end_time=span.end_ns,
            instrumentation_scope=self.scope,
        )


def _exporter(destination: Destination) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=traces_url(destination.endpoint),
        # None lets OTEL_EXPORTER_OTLP_(TRACES_)HEADERS apply; given ones are merged over them.
        headers=dict(destination.headers) or None,
        timeout=destination.timeout_s,
    )


class SpanSink:
    """Spans of recorded calls, queued for a background export. `emit` never raises and
    never waits on the network."""

    def __init__(self, destination: Destination) -> None:
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.destination = destination
        self._builder = _Builder(destination)
        self._processor = BatchSpanProcessor(
            _exporter(destination),
            max_queue_size=destination.max_queue_size,
            schedule_delay_millis=500,
            max_export_batch_size=min(512, destination.max_queue_size),
        )
        self._lock = threading.Lock()
        self.emitted = 0
        """Spans handed to the queue."""
        self.dropped = 0
        """Spans dropped, oldest first, because the queue was full (the collector is behind or
        down); each was still recorded in the database."""
        self.failed = 0
        """Rows that could not be turned into a span (logged once each at debug level)."""

    def _queued(self) -> int:
        # The SDK counts its drops only in its own metrics: the queue's length tells us when
        # the next span pushes the oldest out.
        queue = getattr(getattr(self._processor, "_batch_processor", None), "_queue", None)
        return len(queue) if queue is not None else 0

    def emit(self, row: Mapping[str, Any], redactor: Redactor | None = None) -> None:
        """Queue the span of one recorded row (as the recorder got it: masked here with the
        call's redactor, as the recorder masks what it stores)."""
        try:
            span = span_of(row, include_bodies=self.destination.include_bodies)
            attributes = (
                _masked(span.attributes, redactor) if redactor is not None else span.attributes
            )
            readable = self._builder.readable(span, attributes)
            with self._lock:
                if self._queued() >= self.destination.max_queue_size:
                    self.dropped += 1
                self.emitted += 1
                self._processor.on_end(readable)
        except Exception:  # the call itself went through: its span must not fail it
            with self._lock:
                self.failed += 1
            log.debug("llmbench could not build the span of a call", exc_info=True)

    def flush(self) -> bool:
        """Export what is queued now (waits on the collector: for tests and shutdown)."""
        return bool(self._processor.force_flush())

    def close(self, timeout_s: float = _EXIT_WAIT_S) -> None:
        """Export what is queued, waiting `timeout_s` at most: past it the exporter's retries
        are cut short (the SDK's own shutdown would wait 30 s on a dead collector)."""
        stopping = threading.Thread(target=self._processor.shutdown, daemon=True)
        stopping.start()
        stopping.join(timeout_s)
        if stopping.is_alive():
            self._processor.span_exporter.shutdown()  # its retries stop at once
            stopping.join(0.5)


class _NoSink:
    """[otel] not configured: nothing is built, nothing is imported."""

    emitted = dropped = failed = 0

    def emit(self, row: Mapping[str, Any], redactor: Redactor | None = None) -> None:
        return None


NO_SINK = _NoSink()
_sinks: dict[Destination, SpanSink] = {}
_sinks_lock = threading.Lock()


def span_sink(settings: OtelSettings) -> SpanSink | _NoSink:
    """The process's sink for these settings (one export thread per destination, whichever
    gateways and loggers share it); NO_SINK when no endpoint is set."""
    if not settings.endpoint:
        return NO_SINK
    destination = Destination.of(settings)
    with _sinks_lock:
        sink = _sinks.get(destination)
        if sink is None:
            try:
                sink = _sinks[destination] = SpanSink(destination)
            except ImportError as error:  # the `otel` extra is not installed
                log.warning("llmbench: [otel] needs the otel extra (%s); no spans are sent", error)
                return NO_SINK
            if len(_sinks) == 1:
                atexit.register(close_sinks)
        return sink


_config_key: tuple[str, int, int] | None = None
_config_sink: SpanSink | _NoSink = NO_SINK


def configured_sink() -> SpanSink | _NoSink:
    """The sink of the user's config file, for the litellm callback, which has no settings of
    its own: read again only when the file changes (one stat per call)."""
    global _config_key, _config_sink
    from llmbench import paths
    from llmbench.config import ConfigError, load_settings

    path = paths.config_path()
    try:
        info = os.stat(path)
        key = (str(path), info.st_mtime_ns, info.st_size)
    except OSError:
        key = (str(path), 0, 0)
    if key != _config_key:
        try:
            _config_sink = span_sink(load_settings(path).otel)
        except ConfigError as error:
            log.warning("llmbench: %s; no spans are sent", error)
            _config_sink = NO_SINK
        _config_key = key
    return _config_sink


def close_sinks(timeout_s: float = _EXIT_WAIT_S) -> None:
    """Export what is queued and stop every sink (at exit, and between tests)."""
    with _sinks_lock:
        sinks = list(_sinks.values())
        _sinks.clear()
    for sink in sinks:
        sink.close(timeout_s)


class OtelExportError(Exception):
    """The collector did not take a batch (unreachable, or it answered with an error)."""


class SpanBatches:
    """Rows sent as spans a batch at a time, each export waited for (history, not live calls:
    there the caller wants to know that everything arrived)."""

    def __init__(self, destination: Destination, batch_size: int = 512) -> None:
        self.destination = destination
        self.batch_size = batch_size
        self._builder = _Builder(destination)
        self._exporter = _exporter(destination)

    def send(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Send every row's span; how many were sent. Raises OtelExportError at the first
        batch the collector does not take (the spans sent before it stay sent)."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        sent = 0
        batch: list[Any] = []
        try:
            for row in rows:
                span = span_of(row, include_bodies=self.destination.include_bodies)
                batch.append(self._builder.readable(span, span.attributes))
                if len(batch) >= self.batch_size:
                    sent += self._send(batch, sent, SpanExportResult.SUCCESS)
                    batch = []
            if batch:
                sent += self._send(batch, sent, SpanExportResult.SUCCESS)
        finally:
            self._exporter.shutdown()
        return sent

    def _send(self, batch: list[Any], sent: int, success: Any) -> int:
        if self._exporter.export(batch) != success:
            raise OtelExportError(
                f"the collector at {traces_url(self.destination.endpoint)} did not take the"
                f" spans after {sent:,} were sent (unreachable, or it answered with an error)"
            )
        return len(batch)
