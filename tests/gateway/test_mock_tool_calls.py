"""The built-in `llmbench/mock` uses tools when they are sent, deterministically, so suites and
the TUI can exercise tool calls offline: a call of the tool the request names (or one picked by
its seed) with arguments that follow the tool's schema; text once the tool's result is back;
whole and streamed alike, through litellm's path as a hosted model would be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.config import Settings
from llmbench.core.evaluation.tool_call_output import openai_tool_calls
from llmbench.gateway.outcomes import GatewayResult
from llmbench.services.sdk import Bench

MODEL = "llmbench/mock"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit"],
        },
    },
}
REFUND = {
    "type": "function",
    "function": {
        "name": "issue_refund",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["order_id", "amount"],
        },
    },
}
ASK = [{"role": "user", "content": "What is the weather in Lisbon tomorrow?"}]


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    with Bench(db=tmp_path / "mock.db", settings=Settings()) as opened:
        yield opened


def test_tools_sent_get_a_call_that_follows_the_schema(bench: Bench) -> None:
    result = bench.complete(MODEL, ASK, params={"tools": [WEATHER]})
    (call,) = result.completion.tool_calls
    assert call.name == "get_weather" and call.id.startswith("call_")
    arguments = json.loads(call.arguments)
    assert set(arguments) == {"city", "unit"}  # the required ones
    assert arguments["unit"] in ("celsius", "fahrenheit") and isinstance(arguments["city"], str)
    assert result.text == "" and result.completion.finish_reason == "tool_calls"
    assert result.completion.usage.completion_tokens > 0
    # The same request, the same call: checks on tool use are repeatable.
    again = bench.complete(MODEL, ASK, params={"tools": [WEATHER]})
    assert again.completion.tool_calls == result.completion.tool_calls
    # Durable by default: the rows are on disk once complete() has returned.
    row = bench.store.read().execute("SELECT tool_calls, finish_reason FROM calls").fetchone()
    assert json.loads(row[0])[0]["name"] == "get_weather" and row[1] == "tool_calls"


def test_tool_choice_names_the_tool_or_turns_tools_off(bench: Bench) -> None:
    choose = {"type": "function", "function": {"name": "issue_refund"}}
    chosen = bench.complete(MODEL, ASK, params={"tools": [WEATHER, REFUND], "tool_choice": choose})
    assert [call.name for call in chosen.completion.tool_calls] == ["issue_refund"]
    amount = json.loads(chosen.completion.tool_calls[0].arguments)["amount"]
    assert isinstance(amount, float)
    off = bench.complete(MODEL, ASK, params={"tools": [WEATHER], "tool_choice": "none"})
    assert off.completion.tool_calls == () and off.text


def test_after_the_tools_result_the_mock_answers_in_text(bench: Bench) -> None:
    first = bench.complete(MODEL, ASK, params={"tools": [WEATHER]})
    (call,) = first.completion.tool_calls
    loop = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": openai_tool_calls([call])},
        {"role": "tool", "tool_call_id": call.id, "content": "21 °C and sunny"},
    ]
    closing = bench.complete(MODEL, loop, params={"tools": [WEATHER]})
    assert closing.completion.tool_calls == () and closing.text
    assert closing.completion.finish_reason == "stop"


def test_a_streamed_tool_call_arrives_assembled(bench: Bench) -> None:
    whole = bench.complete(MODEL, ASK, params={"tools": [WEATHER]})
    final = None
    for piece in bench.stream(MODEL, ASK, params={"tools": [WEATHER]}):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    assert final.completion.tool_calls == whole.completion.tool_calls
    assert final.completion.finish_reason == "tool_calls"
