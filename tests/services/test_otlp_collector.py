"""`llmbench collect`'s receiver: spans sent by opentelemetry-sdk's real OTLP/HTTP exporter,
with GenAI attributes as the OTel conventions, OpenLLMetry and OpenInference set them, land as
sealed calls with their tokens, cost (the gateway's price table), latency, conversation, trace
and parent call, prompt, answer and tool calls; spans that are not model calls are skipped and
counted; JSON and gzip bodies too; bad bodies get OTLP's status codes."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Usage
from llmbench.gateway.chain_key import chain_key_for
from llmbench.gateway.model_prices import price_for
from llmbench.services.imports.otlp_collector import BatchReport, running_collector
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support import genai_spans
from tests.support.genai_spans import START_NS, agent_trace, otlp_json, provider, recorded_spans

COLUMNS = (
    "request_id, ts, model, model_requested, provider, prompt_tokens, completion_tokens, cost, "
    "latency_ms, status, conversation_id, trace_id, parent_request_id, messages, response, "
    "tool_calls, finish_reason, user, tags, params"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "bench.db") as opened:
        yield opened


@pytest.fixture
def collector(store: Store) -> Iterator[tuple[int, list[BatchReport]]]:
    reports: list[BatchReport] = []
    with running_collector(store, report=reports.append) as port:
        yield port, reports


def _calls(store: Store) -> dict[str, dict[str, Any]]:
    cursor = store.read().execute(f"SELECT {COLUMNS} FROM calls ORDER BY id")
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {json.loads(row["tags"])["span"]: row for row in rows}


def _cost(model: str, prompt: int, completion: int) -> float:
    price = price_for(model)
    assert price is not None
    return cost_of(Usage(prompt_tokens=prompt, completion_tokens=completion), price)


def _exporter(port: int, **options: Any) -> OTLPSpanExporter:
    # A long timeout: the machine running the tests may be busy.
    return OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=60, **options)


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_an_agent_trace_from_the_real_exporter_lands_as_calls(
    store: Store, collector: tuple[int, list[BatchReport]], compression: Compression
) -> None:
    port, reports = collector
    tracing = provider(BatchSpanProcessor(_exporter(port, compression=compression)))
    agent_trace(tracing.get_tracer("tests.genai"))
    assert tracing.force_flush(30_000)
    tracing.shutdown()

    assert len(reports) == 1
    assert (reports[0].spans, reports[0].added, reports[0].skipped) == (5, 3, 2)
    calls = _calls(store)
    assert set(calls) == {"chat gpt-4o", "openai.chat", "ChatCompletion"}
    planner, joke, weather = calls["chat gpt-4o"], calls["openai.chat"], calls["ChatCompletion"]

    # The conventions' planner call: the root call of the trace, its answer a tool call.
    trace_id = planner["trace_id"]
    assert len(trace_id) == 32 and planner["parent_request_id"] is None
    assert planner["request_id"].startswith(f"otlp:{trace_id}:")
    assert planner["ts"] == "2026-05-28T20:26:40.010Z"
    assert planner["latency_ms"] == pytest.approx(1200.0)
    assert (planner["model"], planner["model_requested"], planner["provider"]) == (
        "gpt-4o-2024-08-06", "gpt-4o", "openai"
    )  # fmt: skip
    assert (planner["prompt_tokens"], planner["completion_tokens"]) == (97, 52)
    assert planner["cost"] == pytest.approx(_cost("gpt-4o-2024-08-06", 97, 52))
    assert planner["conversation_id"] == genai_spans.SESSION
    assert json.loads(planner["messages"]) == [
        {"role": "system", "content": "You plan a trip in steps."},
        {"role": "user", "content": "Weather in Paris, then a joke?"},
    ]
    assert json.loads(planner["tool_calls"]) == [
        {"id": "call_VSPygqKTWdrhaFErNvMV18Yl", "name": "get_weather",
         "arguments": '{"location": "Paris"}'}
    ]  # fmt: skip
    assert planner["finish_reason"] == "tool_call"
    assert json.loads(planner["params"]) == {"max_tokens": 200, "temperature": 0.0}
    assert json.loads(planner["tags"]) == {
        "source": "otlp", "span": "chat gpt-4o", "service": "trip-app",
        "response_id": "chatcmpl-plan-1",
    }  # fmt: skip

    # OpenLLMetry's call, made inside a workflow span under the planner: linked to the planner.
    assert joke["parent_request_id"] == planner["request_id"]
    assert joke["trace_id"] == trace_id
    assert (joke["model"], joke["prompt_tokens"], joke["completion_tokens"]) == (
        "gpt-4o-mini-2024-07-18", 15, 24
    )  # fmt: skip
    assert joke["cost"] == pytest.approx(_cost("gpt-4o-mini-2024-07-18", 15, 24))
    assert joke["conversation_id"] == genai_spans.SESSION
    assert json.loads(joke["messages"]) == [
        {"role": "user", "content": "Tell me a joke about opentelemetry"}
    ]
    assert joke["response"].startswith("Why did the span cross the trace?")
    assert (joke["finish_reason"], joke["latency_ms"]) == ("stop", pytest.approx(740.0))

    # OpenInference's call, straight under the planner.
    assert weather["parent_request_id"] == planner["request_id"]
    assert (weather["model"], weather["prompt_tokens"], weather["completion_tokens"]) == (
        "gpt-4o", 52, 18
    )  # fmt: skip
    assert weather["cost"] == pytest.approx(_cost("gpt-4o", 52, 18))
    assert (weather["conversation_id"], weather["user"]) == (genai_spans.SESSION, "user-42")
    assert [m["role"] for m in json.loads(weather["messages"])] == ["system", "user"]
    assert json.loads(weather["tool_calls"]) == [
        {"id": "call_62136354", "name": "get_weather", "arguments": '{"city": "Paris"}'}
    ]
    assert json.loads(weather["params"]) == {"temperature": 0.2}
    report = verify_chain(store.read(), chain_key_for(store))
    assert report.ok and report.checked == 3


def test_a_call_sent_after_its_parent_call_is_linked_through_the_log(
    store: Store, collector: tuple[int, list[BatchReport]]
) -> None:
    """One span per request (SimpleSpanProcessor): the parent call, ended first, is already
    in the log when its child arrives."""
    port, reports = collector
    tracing = provider(SimpleSpanProcessor(_exporter(port)))
    tracer = tracing.get_tracer("tests.genai")
    parent = tracer.start_span("chat gpt-4o", attributes=genai_spans.PLANNER, start_time=START_NS)
    parent.end(end_time=START_NS + 10**9)
    from opentelemetry.trace import set_span_in_context

    child = tracer.start_span(
        "openai.chat", context=set_span_in_context(parent), attributes=genai_spans.OPENLLMETRY
    )
    child.end()
    tracing.shutdown()

    assert [report.added for report in reports] == [1, 1]
    calls = _calls(store)
    assert calls["openai.chat"]["parent_request_id"] == calls["chat gpt-4o"]["request_id"]


def _post(port: int, body: bytes, content_type: str, **headers: str) -> tuple[int, bytes, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/traces",
        data=body,
        headers={"Content-Type": content_type, **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), answer.headers.get_content_type()
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get_content_type()


def test_a_json_body_gzip_or_not_lands_and_a_retry_adds_nothing(
    store: Store, collector: tuple[int, list[BatchReport]]
) -> None:
    port, reports = collector
    body = otlp_json(recorded_spans()).encode()
    status, answer, media = _post(port, gzip.compress(body), "application/json",
                                  **{"Content-Encoding": "gzip"})  # fmt: skip
    assert (status, media, json.loads(answer)) == (200, "application/json", {})
    assert (reports[-1].added, reports[-1].skipped) == (3, 2)
    status, _, _ = _post(port, body, "application/json")  # the exporter's retry
    assert status == 200
    assert (reports[-1].added, reports[-1].already) == (0, 3)
    assert len(_calls(store)) == 3
    assert "3 calls added, 2 not GenAI (skipped)" in reports[0].line()


def test_a_span_that_cannot_be_a_call_is_a_partial_success(
    store: Store, collector: tuple[int, list[BatchReport]]
) -> None:
    port, reports = collector

    def trace(tracer: Any) -> None:
        bad = {**genai_spans.OPENLLMETRY, "gen_ai.usage.prompt_tokens": -3}
        tracer.start_span("openai.chat", attributes=bad).end()
        tracer.start_span("ChatCompletion", attributes=genai_spans.OPENINFERENCE).end()
        tracer.start_span("SELECT orders", attributes={"db.system.name": "postgresql"}).end()

    request = otlp_json(recorded_spans(trace))
    from llmbench.importers.calls.otlp_request import decode_json

    status, answer, media = _post(
        port, decode_json(request).SerializeToString(), "application/x-protobuf"
    )
    assert (status, media) == (200, "application/x-protobuf")
    response = ExportTraceServiceResponse.FromString(answer)
    assert response.partial_success.rejected_spans == 1
    assert "prompt tokens is negative: -3" in response.partial_success.error_message
    assert (reports[-1].added, reports[-1].skipped, reports[-1].rejected) == (1, 1, 1)
    assert list(_calls(store)) == ["ChatCompletion"]


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "expected"),
    [
        (b"\x0a\xff\xff", "application/x-protobuf", {}, 400),
        (b'{"resourceSpans": [', "application/json", {}, 400),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}',
         "application/json", {}, 400),
        (b"not gzip", "application/json", {"Content-Encoding": "gzip"}, 400),
        (b"{}", "text/plain", {}, 415),
    ],
)  # fmt: skip
def test_bodies_it_cannot_read_get_otlp_status_codes(
    store: Store,
    collector: tuple[int, list[BatchReport]],
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    expected: int,
) -> None:
    port, reports = collector
    status, answer, media = _post(port, body, content_type, **headers)
    assert status == expected
    if media == "application/x-protobuf":
        assert Status.FromString(answer).message
    else:
        assert json.loads(answer)["message"]
    assert reports == [] and _calls(store) == {}


def test_keys_in_a_span_s_bodies_never_reach_the_log(
    store: Store, collector: tuple[int, list[BatchReport]]
) -> None:
    port, _ = collector
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2

    def trace(tracer: Any) -> None:
        leaky = {**genai_spans.OPENLLMETRY, "gen_ai.prompt.0.content": f"my key is {key}"}
        leaky["gen_ai.completion.0.content"] = f"noted: {key}"
        tracer.start_span("openai.chat", attributes=leaky).end()

    status, _, _ = _post(port, otlp_json(recorded_spans(trace)).encode(), "application/json")
    assert status == 200
    [call] = _calls(store).values()
    assert "my key is" in call["messages"] and key not in call["messages"]
    assert call["response"].startswith("noted: ") and key not in call["response"]
