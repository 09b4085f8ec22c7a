"""A real OTLP/HTTP trace receiver on 127.0.0.1 for tests: POST /v1/traces with an
ExportTraceServiceRequest, protobuf (application/x-protobuf) or JSON (application/json), gzip
or not, as the OTLP specification's HTTP transport describes; decoded with opentelemetry-proto's
own classes. It answers an ExportTraceServiceResponse in the request's encoding, or the status
set in `fail_with`. Every span is kept, with its resource and scope, for the test to read."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

TRACES_PATH = "/v1/traces"


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as Python: str, bool, int, float, bytes, list or dict."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs}


@dataclass(frozen=True)
class ReceivedSpan:
    span: Span
    resource: dict[str, Any]
    scope_name: str
    schema_url: str

    @property
    def attributes(self) -> dict[str, Any]:
        return attributes(self.span.attributes)

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_span_id(self) -> str:
        return self.span.parent_span_id.hex()


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self.headers: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL, as a collector's is configured (the client adds /v1/traces)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[ReceivedSpan]:
        """The spans once at least `count` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self.spans) < count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return list(self.spans)

    def _take(self, request: ExportTraceServiceRequest, headers: dict[str, str]) -> None:
        received = [
            ReceivedSpan(span, attributes(rs.resource.attributes), ss.scope.name, ss.schema_url)
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        with self._changed:
            self.requests += 1
            self.headers.append(headers)
            self.spans.extend(received)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != TRACES_PATH:
                    self.send_error(404)
                    return
                if receiver.fail_with is not None:
                    self.send_error(receiver.fail_with)
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                is_json = (self.headers.get("Content-Type") or "").startswith("application/json")
                request = ExportTraceServiceRequest()
                if is_json:
                    json_format.Parse(body.decode(), request)
                else:
                    request.ParseFromString(body)
                receiver._take(request, {k.lower(): v for k, v in self.headers.items()})
                response = ExportTraceServiceResponse()
                payload = (
                    json_format.MessageToJson(response).encode()
                    if is_json
                    else response.SerializeToString()
                )
                self.send_response(200)
                self.send_header(
                    "Content-Type", "application/json" if is_json else "application/x-protobuf"
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


@contextmanager
def running_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


__all__ = ["OtlpReceiver", "ReceivedSpan", "any_value", "attributes", "running_receiver"]
