"""GenAI spans made with opentelemetry-sdk's real tracer, their attributes set as each
instrumentation sets them (sources in tests/data/otlp/README.md), and the OTLP JSON encoding
of what the real OTLP exporter sends.

One agent trace: an HTTP server span (not GenAI), under it a planning `chat` call as the OTel
GenAI semantic conventions describe it (its answer a tool call), and under that two model calls,
one instrumented by OpenLLMetry and one by OpenInference; an OpenLLMetry workflow span (not a
model call) wraps the OpenLLMetry call. Times are fixed, so latencies are known.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, set_span_in_context

START_NS = 1_780_000_000_000_000_000  # 2026-05-28T20:26:40Z
MS = 1_000_000
SESSION = "chat-7"

# The OTel GenAI semantic conventions (gen-ai-spans.md; messages of parts as
# gen-ai-input-messages.json and gen-ai-output-messages.json define them).
PLANNER = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-plan-1",
    "gen_ai.request.max_tokens": 200,
    "gen_ai.request.temperature": 0.0,
    "gen_ai.usage.input_tokens": 97,
    "gen_ai.usage.output_tokens": 52,
    "gen_ai.conversation.id": SESSION,
    "gen_ai.response.finish_reasons": ("tool_call",),
    "gen_ai.system_instructions": json.dumps(
        [{"type": "text", "content": "You plan a trip in steps."}]
    ),
    "gen_ai.input.messages": json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris, then a joke?"}]}]
    ),
    "gen_ai.output.messages": json.dumps(
        [
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": "call_VSPygqKTWdrhaFErNvMV18Yl",
                        "name": "get_weather",
                        "arguments": {"location": "Paris"},
                    }
                ],
                "finish_reason": "tool_call",
            }
        ]
    ),
}

# OpenLLMetry's OpenAI instrumentation (opentelemetry-instrumentation-openai, semconv_ai's
# SpanAttributes), with the association property Traceloop.set_association_properties adds.
OPENLLMETRY = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.prompt.0.role": "user",
    "gen_ai.prompt.0.content": "Tell me a joke about opentelemetry",
    "gen_ai.completion.0.role": "assistant",
    "gen_ai.completion.0.content": "Why did the span cross the trace? To get to the other side.",
    "gen_ai.completion.0.finish_reason": "stop",
    "gen_ai.usage.prompt_tokens": 15,
    "gen_ai.usage.completion_tokens": 24,
    "llm.usage.total_tokens": 39,
    "traceloop.workflow.name": "trip_planner",
    "traceloop.association.properties.session_id": SESSION,
}
WORKFLOW = {
    "traceloop.span.kind": "workflow",
    "traceloop.workflow.name": "trip_planner",
    "traceloop.entity.name": "trip_planner",
}

# OpenInference's OpenAI instrumentation (openinference-semantic-conventions' SpanAttributes and
# MessageAttributes; the spec's tool-calling example).
OPENINFERENCE = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o",
    "llm.provider": "openai",
    "llm.system": "openai",
    "llm.invocation_parameters": json.dumps({"temperature": 0.2}),
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "Answer from the tool's result.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.content": "What is the weather in Paris?",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_62136354",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": json.dumps(
        {"city": "Paris"}
    ),
    "llm.token_count.prompt": 52,
    "llm.token_count.completion": 18,
    "llm.token_count.total": 70,
    "session.id": SESSION,
    "user.id": "user-42",
}
# litellm's OTel callback (litellm/integrations/opentelemetry.py, set_attributes): the
# conventions' attributes, the finish reasons as JSON text, each choice's function call as
# gen_ai.completion.<i>.function_call.*, the caller's metadata as metadata.<key>.
LITELLM = {
    "gen_ai.request.model": "gpt-4o-mini",
    "llm.request.type": "completion",
    "gen_ai.system": "openai",
    "gen_ai.provider.name": "openai",
    "gen_ai.framework": "litellm",
    "llm.is_streaming": "False",
    "gen_ai.response.id": "chatcmpl-litellm-1",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.total_tokens": 61,
    "gen_ai.usage.output_tokens": 21,
    "gen_ai.usage.input_tokens": 40,
    "gen_ai.operation.name": "chat",
    "gen_ai.input.messages": json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": "Book a table for two"}]}]
    ),
    "gen_ai.output.messages": json.dumps(
        [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": ""}],
                "finish_reason": "tool_calls",
            }
        ]
    ),
    "gen_ai.response.finish_reasons": json.dumps(["tool_calls"]),
    "gen_ai.completion.0.function_call.name": "book_table",
    "gen_ai.completion.0.function_call.arguments": json.dumps({"people": 2}),
    "metadata.session_id": "support-9",
}
HTTP_SERVER = {"http.request.method": "POST", "url.path": "/ask", "http.response.status_code": 200}


def provider(*processors: SpanProcessor, service: str = "trip-app") -> TracerProvider:
    found = TracerProvider(resource=Resource.create({"service.name": service}))
    for processor in processors:
        found.add_span_processor(processor)
    return found


def _span(
    tracer: Tracer,
    name: str,
    attributes: dict[str, Any],
    start_ms: int,
    end_ms: int,
    parent: Any = None,
    error: str | None = None,
) -> Any:
    span = tracer.start_span(
        name,
        context=set_span_in_context(parent) if parent is not None else None,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        start_time=START_NS + start_ms * MS,
    )
    if error:
        span.set_status(Status(StatusCode.ERROR, error))
    return span


def agent_trace(tracer: Tracer) -> None:
    """The agent trace: children end (and are handed to the processor) before their parents."""
    http = _span(tracer, "POST /ask", HTTP_SERVER, 0, 3000)
    planner = _span(tracer, "chat gpt-4o", PLANNER, 10, 1210, parent=http)
    workflow = _span(tracer, "trip_planner.workflow", WORKFLOW, 1300, 2100, parent=planner)
    joke = _span(tracer, "openai.chat", OPENLLMETRY, 1310, 2050, parent=workflow)
    weather = _span(tracer, "ChatCompletion", OPENINFERENCE, 2200, 2900, parent=planner)
    for span, end_ms in ((joke, 2050), (workflow, 2100), (weather, 2900)):
        span.end(end_time=START_NS + end_ms * MS)
    planner.end(end_time=START_NS + 1210 * MS)
    http.end(end_time=START_NS + 3000 * MS)


def recorded_spans(make: Any = agent_trace) -> Sequence[ReadableSpan]:
    """The spans `make` creates, as the SDK hands them to its exporters."""
    exporter = InMemorySpanExporter()
    tracing = provider(SimpleSpanProcessor(exporter))
    make(tracing.get_tracer("tests.genai"))
    tracing.shutdown()
    return exporter.get_finished_spans()


def otlp_json(spans: Sequence[ReadableSpan]) -> str:
    """The spans as the OTLP exporter encodes them (its own encoder), in OTLP's JSON encoding:
    protobuf's JSON mapping with hex ids and integer enums, as the Collector's file exporter
    writes each request on one line."""
    found = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource in found.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _hex(span[key])
    return json.dumps(found, separators=(",", ":"))


def _hex(value: str) -> str:
    import base64

    return base64.b64decode(value).hex()
