"""OTLP trace export requests (ExportTraceServiceRequest) as spans: decoded from the protobuf or
the JSON encoding of OTLP/HTTP, and from the JSON lines the OpenTelemetry Collector's `file`
exporter writes (one request per line).

Decoding is the OpenTelemetry project's own generated code (`opentelemetry-proto`); the JSON
encoding differs from protobuf's canonical JSON only in its ids, which OTLP writes as hex
(https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), so they are turned into
the base64 that protobuf's JSON parser reads before it parses the rest.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from llmbench.importers.bounds import load_json

# Span status codes (opentelemetry/proto/trace/v1/trace.proto, Status.StatusCode).
STATUS_ERROR = 2
_ID_BYTES = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


@dataclass(frozen=True)
class SpanRecord:
    """One span with its attributes as Python values (lists and dicts for OTLP's arrays and
    key-value lists) and the attributes of the resource that sent it."""

    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # "" for a root span
    name: str
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[tuple[str, Mapping[str, Any]], ...] = ()


def decode_protobuf(body: bytes) -> ExportTraceServiceRequest:
    """The request in OTLP's binary protobuf encoding. Raises ValueError."""
    try:
        return ExportTraceServiceRequest.FromString(body)
    except (DecodeError, RecursionError) as error:
        raise ValueError(f"not an OTLP protobuf export request ({error})") from None


def decode_json(text: str) -> ExportTraceServiceRequest:
    """The request in OTLP's JSON encoding (hex ids, unknown fields ignored as receivers must).
    Raises ValueError (a NestingError for JSON nested too deep)."""
    value = load_json(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    _ids_to_base64(value)
    try:
        return ParseDict(value, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (ParseError, RecursionError) as error:
        raise ValueError(f"not an OTLP JSON export request ({error})") from None


def _ids_to_base64(request: dict[str, Any]) -> None:
    """OTLP JSON's hex trace and span ids (of spans and their links) as the base64 text
    protobuf's JSON reads for bytes fields, in place. Raises ValueError for an id that is not
    hex of its length."""
    for resource_spans in _list(request.get("resourceSpans")):
        for scope_spans in _list(_get(resource_spans, "scopeSpans")):
            for span in _list(_get(scope_spans, "spans")):
                if not isinstance(span, dict):
                    continue
                _convert_ids(span)
                for link in _list(span.get("links")):
                    if isinstance(link, dict):
                        _convert_ids(link)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _convert_ids(item: dict[str, Any]) -> None:
    for key, size in _ID_BYTES.items():
        text = item.get(key)
        if text is None or text == "":
            continue
        try:
            raw = bytes.fromhex(text) if isinstance(text, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != size:
            raise ValueError(f"{key} {str(text)[:40]!r} is not {size * 2} hex digits")
        item[key] = base64.b64encode(raw).decode("ascii")


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a Python value (bytes as hex text)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return None


def spans_of(request: ExportTraceServiceRequest) -> Iterator[SpanRecord]:
    """Every span of the request, in its order."""
    for resource_spans in request.resource_spans:
        resource = {a.key: any_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield SpanRecord(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    name=span.name,
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    status_code=span.status.code,
                    status_message=span.status.message,
                    attributes={a.key: any_value(a.value) for a in span.attributes},
                    resource=resource,
                    events=tuple(
                        (event.name, {a.key: any_value(a.value) for a in event.attributes})
                        for event in span.events
                    ),
                )


def span_count(request: ExportTraceServiceRequest) -> int:
    return sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    )
