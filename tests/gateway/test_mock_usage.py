"""The usage `llmbench/mock` reports is the gateway's offline estimate of the same call
(gateway/completion_result.py, used when a provider sends no usage): the prompt counted with what
the request's tool definitions, forced tool and response schema add to it (core/tool_prompt.py),
the answer with its tool calls. So a suite run on the mock costs what the estimate says, and a
row does not change its tokens with whether the provider counted them or llmbench did.

Through the SDK, the gateway and litellm's path to the built-in provider, whole and streamed,
each row read back from the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import Settings
from llmbench.core.evaluation.tool_call_output import openai_tool_calls
from llmbench.core.tokens import count_message_tokens
from llmbench.gateway.completion_result import CompletionResult, completion_result
from llmbench.gateway.outcomes import GatewayResult
from llmbench.services.sdk import Bench

MODEL = "llmbench/mock"
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its number",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "description": "The order's number"},
                "carrier": {"type": "string", "enum": ["ups", "dhl", "post"]},
            },
            "required": ["order_id", "carrier"],
        },
    },
}
ASK = [
    {"role": "system", "content": "You are the support desk of a shop."},
    {"role": "user", "content": "Where is my order 4521?"},
]
SHIPPING_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "shipping",
        "schema": {
            "type": "object",
            "properties": {"status": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["status", "days"],
        },
    },
}
FORCED = {"type": "function", "function": {"name": "lookup_order"}}
REQUESTS = {
    "tools": {"tools": [LOOKUP]},
    "forced-tool": {"tools": [LOOKUP], "tool_choice": FORCED},
    "schema": {"response_format": SHIPPING_SCHEMA},
    "plain": {},
}


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    with Bench(db=tmp_path / "mock-usage.db", settings=Settings()) as opened:
        yield opened


def _estimate(answer: CompletionResult, messages: list[dict[str, Any]], params: dict) -> Any:
    """The gateway's own offline estimate of the answer (no usage reported)."""
    return completion_result(
        model=MODEL,
        answered_model=MODEL,
        messages=messages,
        text=answer.text,
        finish_reason=answer.finish_reason,
        reported_usage=None,
        latency_ms=0.0,
        ttft_ms=None,
        tool_calls=answer.tool_calls,
        params=params,
    ).usage


def _row(bench: Bench) -> dict[str, Any]:
    return next(iter(bench.store.read().query("SELECT * FROM calls ORDER BY id DESC LIMIT 1")))


@pytest.mark.parametrize("kind", list(REQUESTS))
def test_the_reported_usage_is_the_offline_estimate(bench: Bench, kind: str) -> None:
    params = REQUESTS[kind]
    result = bench.complete(MODEL, ASK, params=params)
    usage = result.completion.usage
    assert not usage.estimated  # the provider's own count
    estimate = _estimate(result.completion, ASK, params)
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        estimate.prompt_tokens,
        estimate.completion_tokens,
    )
    row = _row(bench)
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens_estimated"]) == (
        estimate.prompt_tokens,
        estimate.completion_tokens,
        0,
    )
    if params:  # the definitions, the forced tool and the schema are billed prompt tokens
        assert usage.prompt_tokens > count_message_tokens(ASK, MODEL)
    if "tools" in params:
        assert result.completion.tool_calls and not result.text


def test_a_streamed_tool_call_reports_the_estimate_too(bench: Bench) -> None:
    params = REQUESTS["forced-tool"]
    final = None
    for piece in bench.stream(MODEL, ASK, params=params):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None and final.completion.tool_calls
    usage = final.completion.usage
    estimate = _estimate(final.completion, ASK, params)
    assert not usage.estimated
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        estimate.prompt_tokens,
        estimate.completion_tokens,
    )


def test_the_turn_after_the_tool_result_counts_the_whole_loop(bench: Bench) -> None:
    """The closing turn sends the model's call and the tool's result back: the mock answers in
    text, and its prompt count holds both, with the definitions still sent."""
    params = REQUESTS["tools"]
    first = bench.complete(MODEL, ASK, params=params)
    (call,) = first.completion.tool_calls
    loop = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": openai_tool_calls([call])},
        {"role": "tool", "tool_call_id": call.id, "content": '{"status": "shipped"}'},
    ]
    closing = bench.complete(MODEL, loop, params=params)
    assert closing.text and not closing.completion.tool_calls
    estimate = _estimate(closing.completion, loop, params)
    assert closing.completion.usage.prompt_tokens == estimate.prompt_tokens
    assert closing.completion.usage.completion_tokens == estimate.completion_tokens
    assert estimate.prompt_tokens > first.completion.usage.prompt_tokens
