"""Anthropic's Messages API through the gateway's litellm path (`anthropic/<model>` with
`api_base` on the loopback server, which answers with the published reference examples kept in
tests/data/wire/anthropic/): a text answer, tool calls whole and streamed, a tool loop, an
image, extended thinking and prompt-cache usage. Each is verified by reading its row back from
the SQLite file: tokens, cost at the table's rates, tool calls, conversation; the chain seals."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import pytest

from llmbench.config import Settings
from llmbench.core.models import CallThread, ToolCall
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store
from tests.support.anthropic_server import AnthropicServer, reference, reference_events
from tests.support.wire_parts import assert_image_recorded

MODEL = "anthropic/claude-sonnet-4-5-20250929"
ENTRY = bundled_model_table()["claude-sonnet-4-5-20250929"]
WEATHER = [{"role": "user", "content": "What is the weather like in San Francisco?"}]
# The tool of the reference examples, as an OpenAI-style definition (what callers send).
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["location"],
            },
        },
    }
]
# The usage of the reference's streamed tool call (message_start and message_delta).
TOOL_USAGE = {"input_tokens": 472, "output_tokens": 89}
CACHING = reference("usage_prompt_caching")


def _gateway(store: Store) -> Gateway:
    return Gateway(AuditRecorder(store), Settings())


def _rows(gateway: Gateway) -> list[dict[str, Any]]:
    gateway.recorder.flush()
    return list(gateway.recorder.store.read().query("SELECT * FROM calls ORDER BY id"))


def _cost(prompt: int, completion: int, *, written: int = 0, read: int = 0) -> float:
    """What the call costs at litellm's table rates for the model: cache writes and reads at
    their own rates, thinking (part of the output) as output, as Anthropic bills it."""
    return (
        (prompt - written - read) * ENTRY["input_cost_per_token"]
        + written * ENTRY["cache_creation_input_token_cost"]
        + read * ENTRY["cache_read_input_token_cost"]
        + completion * ENTRY["output_cost_per_token"]
    )


async def _streamed(
    gateway: Gateway, messages: list[dict[str, Any]], **options: Any
) -> tuple[str, GatewayResult]:
    pieces: list[str] = []
    final = None
    async for piece in gateway.stream(MODEL, messages, **options):
        if isinstance(piece, GatewayResult):
            final = piece
        else:
            pieces.append(piece)
    assert final is not None
    return "".join(pieces), final


def _sealed_without_key(gateway: Gateway, key: str) -> None:
    """The chain verifies, and the API key sent as x-api-key is nowhere in the file."""
    store = gateway.recorder.store
    assert verify_chain(store.read(), gateway.recorder.key).ok
    dump = "\n".join(store.connection().iterdump())
    assert key not in dump


async def test_a_text_answer_is_recorded_with_the_providers_tokens_and_cost(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str
) -> None:
    base = anthropic_server.scenario("text", replies=("message_text",))
    gateway = _gateway(anthropic_store)
    thread = CallThread(conversation_id="chat-text")
    result = await gateway.complete(
        MODEL,
        [{"role": "user", "content": "Hello, Claude"}],
        params={"api_base": base},
        thread=thread,
    )
    assert result.completion.text == "Hi! My name is Claude."
    (row,) = _rows(gateway)
    # The reference's usage: {"input_tokens": 2095, "output_tokens": 503}.
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens_estimated"]) == (
        2095,
        503,
        0,
    )
    assert (row["cached_tokens"], row["cache_write_tokens"], row["reasoning_tokens"]) == (
        0,
        None,
        None,
    )
    assert row["cost"] == pytest.approx(_cost(2095, 503))
    assert (row["status"], row["finish_reason"], row["response"]) == (
        "ok",
        "stop",
        result.completion.text,
    )
    assert (row["conversation_id"], row["tool_calls"], row["model"]) == ("chat-text", None, MODEL)
    (sent,) = anthropic_server.requests_for("text")
    assert sent.path == "/s/text/v1/messages" and sent.headers["x-api-key"] == anthropic_key
    assert sent.body["model"] == "claude-sonnet-4-5-20250929"
    _sealed_without_key(gateway, anthropic_key)


async def test_a_tool_use_answer_gives_typed_tool_calls_and_records_them(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str
) -> None:
    base = anthropic_server.scenario("tool", replies=("message_tool_use",), usage=(TOOL_USAGE,))
    gateway = _gateway(anthropic_store)
    result = await gateway.complete(
        MODEL,
        WEATHER,
        params={"api_base": base, "tools": TOOLS},
        thread=CallThread(conversation_id="chat-tool"),
    )
    expected = ToolCall(
        id="toolu_01A09q90qw90lq917835lq9",
        name="get_weather",
        arguments='{"location": "San Francisco, CA", "unit": "celsius"}',
    )
    assert result.completion.tool_calls == (expected,)
    assert result.completion.finish_reason == "tool_calls"
    (row,) = _rows(gateway)
    assert json.loads(row["tool_calls"]) == [expected.as_dict()]
    assert row["response"] == "I'll check the current weather in San Francisco for you."
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost"]) == (
        472,
        89,
        pytest.approx(_cost(472, 89)),
    )
    assert (row["finish_reason"], row["conversation_id"]) == ("tool_calls", "chat-tool")
    # The tool reached the server in Anthropic's shape.
    (sent,) = anthropic_server.requests_for("tool")
    (tool,) = sent.body["tools"]
    assert tool["name"] == "get_weather"
    assert tool["input_schema"] == TOOLS[0]["function"]["parameters"]
    _sealed_without_key(gateway, anthropic_key)


async def test_a_streamed_tool_call_is_assembled_from_input_json_deltas(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str
) -> None:
    base = anthropic_server.scenario("tool-stream", replies=("message_tool_use",))
    gateway = _gateway(anthropic_store)
    text, result = await _streamed(
        gateway,
        WEATHER,
        params={"api_base": base, "tools": TOOLS},
        thread=CallThread(conversation_id="chat-stream"),
    )
    # The reference stream: text deltas, then the call's input in nine input_json_delta pieces.
    pieces = [
        data["delta"]["partial_json"]
        for name, data in reference_events("stream_tool_use")
        if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta"
    ]
    arguments = "".join(pieces)
    assert len(pieces) == 9 and json.loads(arguments) == {
        "location": "San Francisco, CA",
        "unit": "fahrenheit",
    }
    assert text == "Okay, let's check the weather for San Francisco, CA:"
    call = ToolCall(id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather", arguments=arguments)
    assert result.completion.tool_calls == (call,)
    assert result.completion.ttft_ms is not None
    (row,) = _rows(gateway)
    assert json.loads(row["tool_calls"]) == [call.as_dict()]
    assert (row["response"], row["finish_reason"]) == (text, "tool_calls")
    # The stream's own usage: 472 in (message_start), 89 out (message_delta).
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens_estimated"]) == (472, 89, 0)
    assert row["cost"] == pytest.approx(_cost(472, 89))
    assert row["conversation_id"] == "chat-stream"
    (sent,) = anthropic_server.requests_for("tool-stream")
    assert sent.body["stream"] is True
    _sealed_without_key(gateway, anthropic_key)


async def test_a_tool_loop_is_one_conversation_of_two_rows(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str
) -> None:
    final_usage = {"input_tokens": 587, "output_tokens": 33}
    base = anthropic_server.scenario(
        "loop",
        replies=("message_tool_use", "message_tool_final"),
        usage=(TOOL_USAGE, final_usage),
    )
    gateway = _gateway(anthropic_store)
    params = {"api_base": base, "tools": TOOLS}
    thread = CallThread(conversation_id="weather-chat", trace_id="weather-run")
    asked = await gateway.complete(MODEL, WEATHER, params=params, thread=thread)
    (call,) = asked.completion.tool_calls
    loop = [
        *WEATHER,
        {
            "role": "assistant",
            "content": asked.completion.text,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "15 degrees"},
    ]
    step = CallThread("weather-chat", "weather-run", parent_request_id=asked.request_id)
    answered = await gateway.complete(MODEL, loop, params=params, thread=step)
    assert answered.completion.text.startswith("The current weather in San Francisco is 15")
    assert answered.completion.tool_calls == ()

    # The second request carried the tool_use back and its tool_result, as Anthropic expects.
    first, second = anthropic_server.requests_for("loop")
    assistant, result = second.body["messages"][1:]
    tool_use = next(block for block in assistant["content"] if block["type"] == "tool_use")
    assert (tool_use["id"], tool_use["name"]) == (call.id, "get_weather")
    assert tool_use["input"] == {"location": "San Francisco, CA", "unit": "celsius"}
    assert result["role"] == "user"
    (block,) = result["content"]
    assert (block["type"], block["tool_use_id"]) == ("tool_result", call.id)
    assert "15 degrees" in json.dumps(block["content"])
    assert first.body["messages"] == second.body["messages"][:1]

    asked_row, answered_row = _rows(gateway)
    assert {asked_row["conversation_id"], answered_row["conversation_id"]} == {"weather-chat"}
    assert {asked_row["trace_id"], answered_row["trace_id"]} == {"weather-run"}
    assert (asked_row["request_id"], answered_row["parent_request_id"]) == (
        asked.request_id,
        asked.request_id,
    )
    assert json.loads(asked_row["tool_calls"]) == [call.as_dict()]
    assert answered_row["tool_calls"] is None
    assert (answered_row["prompt_tokens"], answered_row["completion_tokens"]) == (587, 33)
    assert answered_row["cost"] == pytest.approx(_cost(587, 33))
    # The tool's result is in the recorded messages of the second row.
    sent_back = json.loads(answered_row["messages"])
    assert sent_back[-1] == {"role": "tool", "tool_call_id": call.id, "content": "15 degrees"}
    _sealed_without_key(gateway, anthropic_key)


def _png(width: int, height: int) -> bytes:
    """A real PNG (red pixels), built as the PNG specification lays it out."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_an_image_input_reaches_the_server_as_a_base64_block_and_is_recorded(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str
) -> None:
    usage = {"input_tokens": 1351, "output_tokens": 40}
    base = anthropic_server.scenario("image", replies=("message_text",), usage=(usage,))
    gateway = _gateway(anthropic_store)
    encoded = base64.b64encode(_png(16, 16)).decode()
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
                {"type": "text", "text": "Describe this image."},
            ],
        }
    ]
    await gateway.complete(
        MODEL, messages, params={"api_base": base}, thread=CallThread(conversation_id="vision")
    )
    (sent,) = anthropic_server.requests_for("image")
    image = sent.body["messages"][0]["content"][0]
    assert image == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": encoded},
    }
    (row,) = _rows(gateway)
    assert (row["status"], row["conversation_id"]) == ("ok", "vision")
    assert (row["prompt_tokens"], row["completion_tokens"], row["tokens_estimated"]) == (
        1351,
        40,
        0,
    )
    assert row["cost"] == pytest.approx(_cost(1351, 40))
    # The part is recorded beside the call; 16×16 px is ⌈256 / 750⌉ = 1 token by Anthropic's rule.
    recorded = assert_image_recorded(anthropic_store, row, _png(16, 16), width=16, height=16)
    assert recorded.tokens == 1
    _sealed_without_key(gateway, anthropic_key)


def _thinking_tokens(text: str) -> int:
    """Anthropic's usage does not tell thinking tokens apart (they are part of output_tokens):
    litellm counts the thinking text it received, and that count is what is recorded."""
    from llmbench.gateway.litellm_setup import litellm_module

    return int(litellm_module().token_counter(text=text, count_response_tokens=True))


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_thinking_and_cache_tokens_are_counted_apart_and_priced(
    anthropic_server: AnthropicServer, anthropic_store: Store, anthropic_key: str, streamed: bool
) -> None:
    # The prompt-caching reference's two usages: the first call writes the cache, the next
    # one reads it.
    written, read = CACHING["cache_write"], CACHING["cache_read"]
    name = f"thinking-{streamed}"
    base = anthropic_server.scenario(name, replies=("message_thinking",), usage=(written, read))
    gateway = _gateway(anthropic_store)
    params = {"api_base": base, "thinking": {"type": "enabled", "budget_tokens": 16000}}
    # The prompt-caching reference's request: a long system text marked for the cache.
    book = {
        "type": "text",
        "text": "<the entire contents of 'Pride and Prejudice'>",
        "cache_control": {"type": "ephemeral"},
    }
    ask = [
        {"role": "system", "content": [book]},
        {"role": "user", "content": "What is 27 * 453?"},
    ]
    for _ in range(2):
        if streamed:
            await _streamed(gateway, ask, params=params)
        else:
            await gateway.complete(MODEL, ask, params=params)
    if streamed:
        events = reference_events("stream_thinking")
        thinking = "".join(
            data["delta"].get("thinking", "")
            for name, data in events
            if name == "content_block_delta"
        )
        answer = "27 * 453 = 12,231"
    else:
        blocks = reference("message_thinking")["content"]
        thinking, answer = blocks[0]["thinking"], blocks[1]["text"]
    reasoning = _thinking_tokens(thinking)
    assert 0 < reasoning < 393

    writing, reading = _rows(gateway)
    prompt = 21 + 188086  # input_tokens and the cache's tokens, as litellm counts the prompt
    for row in (writing, reading):
        assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, 393)
        assert (row["reasoning_tokens"], row["response"]) == (reasoning, answer)
        assert row["reasoning_price"] is None  # billed as output
    assert (writing["cache_write_tokens"], writing["cached_tokens"]) == (188086, 0)
    assert (reading["cache_write_tokens"], reading["cached_tokens"]) == (None, 188086)
    assert writing["cost"] == pytest.approx(_cost(prompt, 393, written=188086))
    assert reading["cost"] == pytest.approx(_cost(prompt, 393, read=188086))
    assert writing["cache_write_price"] == pytest.approx(
        ENTRY["cache_creation_input_token_cost"] * 1e6
    )
    assert reading["cached_price"] == pytest.approx(ENTRY["cache_read_input_token_cost"] * 1e6)
    # The thinking parameter and the cache_control block reached the server as sent.
    sent = anthropic_server.requests_for(name)
    assert [request.body["thinking"] for request in sent] == [params["thinking"]] * 2
    assert [request.body["system"] for request in sent] == [[book]] * 2
    _sealed_without_key(gateway, anthropic_key)
