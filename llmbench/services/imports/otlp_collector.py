"""`llmbench collect`: an OTLP/HTTP trace receiver on localhost that records the GenAI
model-call spans it is sent as calls of the audit log, priced and sealed as imported calls are.

It follows the OTLP/HTTP protocol (https://opentelemetry.io/docs/specs/otlp/#otlphttp):
POST /v1/traces with a protobuf (`application/x-protobuf`) or JSON (`application/json`) body,
gzip-compressed or not; the answer is an ExportTraceServiceResponse in the request's encoding,
with `partial_success` counting the model-call spans that could not be calls (200); a body it
cannot decode is 400, another media type 415, and a database that refuses the write 503 (which
exporters retry), each with a google.rpc.Status body. Spans that are not model calls are skipped
and counted (accepted, as OTLP asks of data a receiver does not keep). Every batch is written
through the store's writer in one transaction, so an exporter's retry of a batch adds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from google.protobuf.json_format import MessageToJson
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from llmbench.importers.bounds import NestingError
from llmbench.importers.calls.common import ParsedCalls, to_store_time
from llmbench.importers.calls.otlp_request import decode_json, decode_protobuf, spans_of
from llmbench.importers.calls.otlp_spans import SpanLinks, calls_of_spans
from llmbench.services.imports.calls import import_parsed
from llmbench.services.imports.preparation import DatedPriceLookup, dated_prices
from llmbench.store.costs.import_dedup import existing_request_ids

if TYPE_CHECKING:
    from google.protobuf.message import Message

    from llmbench.store.db import Store

PATH = "/v1/traces"
DEFAULT_PORT = 4318  # OTLP/HTTP's registered port
MAX_BODY = 64 * 1024 * 1024  # a request's body, inflated
# Spans remembered for linking across batches; then forgotten (the log still links parents
# it holds).
MAX_LINKS = 200_000
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# google.rpc.Code values for the Status body of a failed request.
_INVALID_ARGUMENT, _UNAVAILABLE = 3, 14


@dataclass(frozen=True)
class BatchReport:
    """What one export request gave the audit log."""

    at: datetime
    spans: int
    added: int
    already: int  # model calls the log already held (an exporter's retry)
    skipped: int  # not GenAI model calls
    rejected: int  # model-call spans that could not be calls
    unpriced: int
    problems: tuple[str, ...]

    def line(self) -> str:
        text = (
            f"{self.at:%H:%M:%S} {self.spans:,} span{'s' if self.spans != 1 else ''}: "
            f"{self.added:,} calls added, {self.skipped:,} not GenAI (skipped)"
        )
        if self.already:
            text += f", {self.already:,} already in the log"
        if self.unpriced:
            text += f", {self.unpriced:,} unpriced"
        if self.rejected:
            text += f", {self.rejected:,} rejected ({self.problems[0]})"
        return text


class RequestRefused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OtlpCollector:
    """Turns export request bodies into calls of `store`, one transaction per request."""

    def __init__(self, store: Store, report: Callable[[BatchReport], None] | None = None) -> None:
        from llmbench.gateway.chain_key import chain_key_for

        self._store = store
        self._report = report
        chain_key_for(store)  # refuse now, not at the first batch, a file whose key is elsewhere
        self._prices: DatedPriceLookup = dated_prices(store.read())
        # The spans of earlier batches, so a call made inside an agent or workflow span sent
        # before it is linked to the model call above that span.
        self._links = SpanLinks()
        # One thread: batches are written in the order they came, over one read connection.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-collector")
        # The first price looked up loads litellm's table (seconds): done while the collector
        # waits for its first batch rather than while an exporter waits on that batch.
        self._thread.submit(self._prices, "gpt-4o-mini", to_store_time(time.time()))

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    def receive(
        self, body: bytes, media_type: str
    ) -> tuple[ExportTraceServiceResponse, BatchReport]:
        """Record the model calls of one request body. Raises RequestRefused."""
        try:
            request = decode_protobuf(body) if media_type == PROTOBUF else decode_json(_text(body))
        except NestingError as error:
            raise RequestRefused(400, _INVALID_ARGUMENT, str(error)) from None
        except ValueError as error:
            raise RequestRefused(400, _INVALID_ARGUMENT, str(error)) from None
        spans = list(spans_of(request))

        def in_log(request_ids: list[str]) -> set[str]:
            return existing_request_ids(self._store.read(), request_ids)

        try:
            if len(self._links.calls) + len(self._links.through) > MAX_LINKS:
                self._links = SpanLinks()
            found = calls_of_spans(spans, recorded_before=in_log, links=self._links)
            outcome = import_parsed(
                self._store, ParsedCalls("otlp", found.calls), prices=self._prices
            )
        except Exception as error:  # the file refused the write: the exporter retries later
            raise RequestRefused(503, _UNAVAILABLE, f"not recorded: {error}") from None
        rejected = len(found.problems)
        report = BatchReport(
            at=datetime.now(UTC),
            spans=len(spans),
            added=outcome.added,
            already=outcome.skipped,
            skipped=found.skipped,
            rejected=rejected,
            unpriced=outcome.unpriced,
            problems=tuple(found.problems),
        )
        response = ExportTraceServiceResponse()
        if rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(
                    rejected_spans=rejected, error_message="; ".join(found.problems[:5])
                )
            )
        if self._report:
            self._report(report)
        return response, report

    async def handle(self, request: web.Request) -> web.Response:
        media_type = request.content_type
        try:
            if media_type not in (PROTOBUF, JSON):
                raise RequestRefused(
                    415,
                    _INVALID_ARGUMENT,
                    f"unsupported media type {media_type!r}: send {PROTOBUF} or {JSON}",
                )
            body = await _body(request)
            loop = asyncio.get_running_loop()
            response, _ = await loop.run_in_executor(self._thread, self.receive, body, media_type)
        except RequestRefused as refused:
            status = Status(code=refused.code, message=refused.message)
            answer = media_type if media_type in (PROTOBUF, JSON) else JSON
            return _response(status, answer, refused.status)
        return _response(response, media_type, 200)

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self.handle)
        return app


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused(400, _INVALID_ARGUMENT, "the JSON body is not UTF-8") from None


def _body_encoding(encoding: str) -> None:
    """aiohttp inflates gzip (and deflate) bodies as it reads them, within `client_max_size`
    inflated, so a small body cannot expand without end; other encodings are refused."""
    if encoding.strip().lower() not in ("", "identity", "gzip", "deflate"):
        raise RequestRefused(415, _INVALID_ARGUMENT, f"unsupported Content-Encoding {encoding!r}")


async def _body(request: web.Request) -> bytes:
    _body_encoding(request.headers.get("Content-Encoding", ""))
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestRefused(413, _INVALID_ARGUMENT, f"larger than {MAX_BODY:,} bytes") from None
    except RequestPayloadError as error:  # e.g. a body marked gzip that is not
        raise RequestRefused(400, _INVALID_ARGUMENT, f"unreadable body ({error})") from None


def _response(message: Message, media_type: str, status: int) -> web.Response:
    if media_type == PROTOBUF:
        return web.Response(body=message.SerializeToString(), status=status, content_type=PROTOBUF)
    return web.Response(text=MessageToJson(message), status=status, content_type=JSON)


SHUTDOWN_S = 5.0


async def serve(
    collector: OtlpCollector,
    host: str,
    port: int,
    started: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Receive until `stop` is set (or the task is cancelled, as Ctrl+C does), then close the
    listener and let the requests under way finish. `started` gets the port (0 picks one)."""
    # aiohttp waits up to a minute by default for open connections when it stops: an
    # exporter's kept-alive connection would hold Ctrl+C that long. Requests under way get
    # SHUTDOWN_S to finish; their batches are written either way (the writer is ours).
    runner = web.AppRunner(
        collector.application(),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=SHUTDOWN_S,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server  # the asyncio server: its socket names the port 0 picked
        bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
        if started:
            started(bound)
        await (stop or _stopped_by_signals()).wait()
    finally:
        await runner.cleanup()


def _stopped_by_signals() -> asyncio.Event:
    """An event set by Ctrl+C (SIGINT) or SIGTERM. Through the loop's own handlers, not a
    KeyboardInterrupt: the kernel may hand the signal to any of the process's threads (the
    store's writer, the collector's), and a plain Python handler then waits for the main
    thread's next bytecode, which a loop idle in select() never runs. The loop's handlers wake
    it through its self-pipe."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        # Not the main thread, or Windows: Ctrl+C is then a KeyboardInterrupt, as before.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, stop.set)
    return stop


@contextmanager
def running_collector(
    store: Store, host: str = "127.0.0.1", report: Callable[[BatchReport], None] | None = None
) -> Iterator[int]:
    """A collector on a free port of `host` in a thread of its own, for as long as the block
    runs; yields the port."""
    collector = OtlpCollector(store, report)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    ports: list[int] = []
    failures: list[BaseException] = []

    def on_start(port: int) -> None:
        ports.append(port)
        ready.set()

    def run() -> None:
        try:
            loop.run_until_complete(serve(collector, host, 0, on_start, stop))
        except BaseException as error:  # reported to the caller below
            failures.append(error)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="otlp-collector-loop", daemon=True)
    thread.start()
    ready.wait(30)
    try:
        if failures or not ports:
            raise RuntimeError(f"the collector did not start: {failures[:1] or 'timeout'}")
        yield ports[0]
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)
        collector.close()
