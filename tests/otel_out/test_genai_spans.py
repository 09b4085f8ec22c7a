"""A recorded call as a GenAI span (core/audit/genai_spans.py): the attributes the
OpenTelemetry GenAI semantic conventions v1.37.0 name for an inference span, llmbench's own
under llmbench.*, bodies only when asked for, and ids that put a conversation in one trace."""

from __future__ import annotations

import json
from typing import Any

from llmbench.core.audit.genai_spans import (
    SCHEMA_URL,
    input_messages,
    span_id_of,
    span_of,
    timestamp_ns,
    trace_id_of,
)

ROW: dict[str, Any] = {
    "ts": "2026-03-01T09:30:15.250Z",
    "request_id": "req-1",
    "attempt": 1,
    "model_requested": "openai/gpt-4o",
    "model": "openai/gpt-4o-2024-08-06",
    "provider": "openai",
    "status": "ok",
    "prompt_tokens": 120,
    "completion_tokens": 35,
    "cached_tokens": 64,
    "reasoning_tokens": 0,
    "cost": 0.00125,
    "latency_ms": 812.5,
    "ttft_ms": 250.0,
    "finish_reason": "stop",
    "prompt_version_id": 7,
    "feature": "support",
    "customer": "acme",
    "tags": json.dumps({"region": "eu", "queue_wait_ms": 1.5}),
    "params": json.dumps({"temperature": 0.2, "max_tokens": 256, "stop": ["END"], "n": 1}),
    "messages": json.dumps(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Where is my refund?"},
        ]
    ),
    "response": "It was sent on Monday.",
    "conversation_id": "support-42",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "parent_request_id": None,
}


def test_an_answered_call_has_the_conventions_attributes_and_llmbenchs_own() -> None:
    span = span_of(ROW)
    assert span.name == "chat gpt-4o"
    assert SCHEMA_URL.endswith("/1.37.0")
    assert not span.failed and span.error_type is None
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 35,
        "gen_ai.usage.cache_read.input_tokens": 64,
        "gen_ai.conversation.id": "support-42",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.time_to_first_chunk": 0.25,
        "llmbench.cost_usd": 0.00125,
        "llmbench.prompt.version_id": 7,
        "llmbench.request_id": "req-1",
        "llmbench.attempt": 1,
        "llmbench.tag.feature": "support",
        "llmbench.tag.customer": "acme",
        "llmbench.tag.region": "eu",
    }
    assert {name: span.attributes.get(name) for name in expected} == expected
    # Zero reasoning tokens is "none reported", n=1 is the default: neither is sent.
    assert "gen_ai.usage.reasoning.output_tokens" not in span.attributes
    assert "gen_ai.request.choice.count" not in span.attributes
    assert "llm.token_count.completion_details.reasoning" not in span.attributes


def test_reasoning_tokens_go_under_the_conventions_name_and_openinferences() -> None:
    attributes = span_of({**ROW, "reasoning_tokens": 512}).attributes
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 512
    assert attributes["llm.token_count.completion_details.reasoning"] == 512


def test_bodies_only_when_asked_for_in_the_conventions_parts_format() -> None:
    plain = span_of(ROW)
    assert not {"gen_ai.input.messages", "gen_ai.output.messages"} & set(plain.attributes)
    assert not any("refund" in str(value) for value in plain.attributes.values())
    full = span_of(ROW, include_bodies=True).attributes
    assert json.loads(str(full["gen_ai.input.messages"])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Where is my refund?"}]},
    ]
    assert json.loads(str(full["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It was sent on Monday."}],
            "finish_reason": "stop",
        }
    ]


def test_tool_calls_and_results_become_parts() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rainy, 57F"},
    ]
    assert input_messages(messages)[1:] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city": "Paris"}',
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy, 57F"}],
        },
    ]
    row = {**ROW, "response": None, "finish_reason": "tool_calls"}
    row["tool_calls"] = json.dumps([{"id": "c2", "name": "lookup", "arguments": "{}"}])
    output = json.loads(str(span_of(row, include_bodies=True).attributes["gen_ai.output.messages"]))
    assert output[0]["parts"] == [
        {"type": "tool_call", "id": "c2", "name": "lookup", "arguments": "{}"}
    ]


def test_times_are_the_calls_ts_and_latency_to_the_nanosecond() -> None:
    span = span_of(ROW)
    assert span.start_ns == timestamp_ns("2026-03-01T09:30:15.250Z") == 1_772_357_415_250_000_000
    assert span.end_ns - span.start_ns == 812_500_000


def test_a_failed_attempt_is_an_error_with_its_type_and_no_response_model() -> None:
    failed = {
        **ROW,
        "attempt": 2,
        "status": "rate_limited",
        "error_kind": "rate_limit",
        "response": None,
        "finish_reason": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    span = span_of(failed)
    assert span.failed and span.error_type == "rate_limit"
    assert span.attributes["error.type"] == "rate_limit"
    assert "gen_ai.response.model" not in span.attributes
    assert span.span_id != span_of(ROW).span_id  # each attempt is a span of its own


def test_a_cache_hit_is_answered_and_keeps_the_models_provider() -> None:
    hit = {**ROW, "provider": "cache", "status": "cache_hit", "cost": 0.0}
    span = span_of(hit)
    assert not span.failed
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["llmbench.status"] == "cache_hit"


def test_trace_ids_come_from_the_trace_then_the_conversation_then_the_request() -> None:
    assert trace_id_of(ROW) == int("4bf92f3577b34da6a3ce929d0e0e4736", 16)  # already OTel's
    named = trace_id_of({**ROW, "trace_id": "run-7"})
    assert named == trace_id_of({"trace_id": "run-7"}) and 0 < named < 2**128
    by_conversation = {**ROW, "trace_id": None}
    assert trace_id_of(by_conversation) == trace_id_of({**by_conversation, "request_id": "other"})
    alone = {**ROW, "trace_id": None, "conversation_id": None}
    assert trace_id_of(alone) != trace_id_of({**alone, "request_id": "other"})
    assert len({named, trace_id_of(by_conversation), trace_id_of(alone)}) == 3


def test_a_three_step_conversation_is_one_trace_of_steps_under_their_parents() -> None:
    steps = [
        {**ROW, "request_id": "r1", "trace_id": "agent-run", "parent_request_id": None},
        {**ROW, "request_id": "r2", "trace_id": "agent-run", "parent_request_id": "r1"},
        {**ROW, "request_id": "r3", "trace_id": "agent-run", "parent_request_id": "r2"},
    ]
    spans = [span_of(step) for step in steps]
    assert len({span.trace_id for span in spans}) == 1
    assert [span.parent_span_id for span in spans] == [None, spans[0].span_id, spans[1].span_id]
    assert spans[1].parent_span_id == span_id_of("r1")
    assert len({span.span_id for span in spans}) == 3
