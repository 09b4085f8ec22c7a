"""Gemini's generateContent API through the gateway's litellm path (`gemini/<model>` with
`api_base` at a loopback server answering with Google's reference bodies): text, a function
call whole and streamed (`streamGenerateContent?alt=sse`), a function-call loop in one
conversation, an inline image, thinking and cached tokens, and RESOURCE_EXHAUSTED and
UNAVAILABLE errors. Each call is checked by reading its row back from the SQLite file: tokens,
cost at litellm's table rates, tool calls, conversation id; the chain still verifies."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.models import CallThread
from llmbench.gateway.engine import Gateway
from llmbench.gateway.model_table import bundled_model_table
from llmbench.store.db import Store, open_db
from tests.support.gemini_server import GeminiServer, body, running_gemini_server, stream
from tests.support.images import png
from tests.support.wire_calls import (
    Sleeps,
    chain_verifies,
    expected_cost,
    rows,
    streamed,
    wire_gateway,
)
from tests.support.wire_parts import assert_image_recorded
from tests.support.wire_server import Reply, reference

MODEL = "gemini/gemini-2.5-flash"
PRICED = "gemini/gemini-2.5-flash"  # litellm's table entry the calls are billed at
GEMINI_TEST_KEY = "AIzaSy-loopback-test-key-0123456789abcdef"
ASK = [{"role": "user", "content": "What is the temperature in London?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_temperature",
            "description": "Gets the current temperature for a given location.",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    yield from running_gemini_server()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_TEST_KEY)
    with open_db(tmp_path / "gemini.db") as opened:
        yield opened


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def gateway(store: Store, gemini_server: GeminiServer, sleeps: Sleeps) -> Gateway:
    return wire_gateway(store, MODEL, gemini_server.api_base, sleeps)


def _usage(name: str) -> dict[str, int]:
    return dict(reference("gemini", name)["usageMetadata"])


def _assert_key_stayed_out(store: Store, gemini_server: GeminiServer) -> None:
    assert all(r.headers.get("x-goog-api-key") == GEMINI_TEST_KEY for r in gemini_server.requests)
    dump = json.dumps(list(store.read().query("SELECT * FROM calls")), default=str)
    assert GEMINI_TEST_KEY not in dump


async def test_a_text_answer(store: Store, gemini_server: GeminiServer, gateway: Gateway) -> None:
    gemini_server.answer(body("text.json"))
    thread = CallThread(conversation_id="gemini-text")
    result = await gateway.complete(
        MODEL, [{"role": "user", "content": "Explain AI"}], thread=thread
    )

    (sent,) = gemini_server.requests
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "Explain AI"}]}]
    (row,) = rows(store, gateway)
    usage = _usage("text.json")
    assert row["status"] == "ok" and row["response"] == result.completion.text
    assert row["response"].startswith("AI learns patterns")
    assert (
        (row["prompt_tokens"], row["completion_tokens"])
        == (8, 26)
        == (
            usage["promptTokenCount"],
            usage["candidatesTokenCount"],
        )
    )
    assert not row["tokens_estimated"] and row["tool_calls"] is None
    assert (row["reasoning_tokens"], row["cached_tokens"]) == (None, 0)
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=8, completion=26))
    assert row["conversation_id"] == "gemini-text" and row["finish_reason"] == "stop"
    assert chain_verifies(store, gateway)
    _assert_key_stayed_out(store, gemini_server)


async def test_a_function_call_answer(
    store: Store, gemini_server: GeminiServer, gateway: Gateway
) -> None:
    gemini_server.answer(body("function_call.json"))
    thread = CallThread(conversation_id="gemini-tools")
    result = await gateway.complete(MODEL, ASK, params={"tools": TOOLS}, thread=thread)

    (sent,) = gemini_server.requests
    declared = sent.body["tools"][0]["function_declarations"][0]
    assert declared["name"] == "get_current_temperature"
    (call,) = result.completion.tool_calls
    assert (call.name, json.loads(call.arguments)) == (
        "get_current_temperature",
        {"location": "London"},
    )
    (row,) = rows(store, gateway)
    recorded = json.loads(row["tool_calls"])
    assert recorded == [call.as_dict()] and recorded[0]["id"]
    assert row["finish_reason"] == "tool_calls" and row["response"] == ""
    assert (row["prompt_tokens"], row["completion_tokens"]) == (62, 17)
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=62, completion=17))
    assert row["conversation_id"] == "gemini-tools"
    assert chain_verifies(store, gateway)


async def test_a_streamed_function_call(
    store: Store, gemini_server: GeminiServer, gateway: Gateway
) -> None:
    gemini_server.answer(stream("function_call_stream.json"))
    thread = CallThread(conversation_id="gemini-stream")
    result = await streamed(gateway, MODEL, ASK, params={"tools": TOOLS}, thread=thread)

    (sent,) = gemini_server.requests
    assert sent.path.endswith(":streamGenerateContent") and sent.query == {"alt": "sse"}
    (call,) = result.completion.tool_calls
    assert json.loads(call.arguments) == {"location": "London"}
    (row,) = rows(store, gateway)
    assert json.loads(row["tool_calls"]) == [call.as_dict()]
    assert row["finish_reason"] == "tool_calls"
    # The provider's usage (last chunk), not an offline estimate.
    assert (row["prompt_tokens"], row["completion_tokens"]) == (62, 17)
    assert not row["tokens_estimated"]
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=62, completion=17))
    assert row["conversation_id"] == "gemini-stream"
    assert chain_verifies(store, gateway)


async def test_a_function_call_loop_is_one_conversation(
    store: Store, gemini_server: GeminiServer, gateway: Gateway
) -> None:
    gemini_server.answer(body("function_call.json"), body("function_response_answer.json"))
    thread = CallThread(conversation_id="gemini-loop", trace_id="run-1")
    planned = await gateway.complete(MODEL, ASK, params={"tools": TOOLS}, thread=thread)
    (call,) = planned.completion.tool_calls
    loop = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [_wire(call.as_dict())]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 15, "unit": "C"}'},
    ]
    step = CallThread("gemini-loop", "run-1", planned.request_id)
    answered = await gateway.complete(MODEL, loop, params={"tools": TOOLS}, thread=step)

    # The call went back as Gemini's functionCall, its result as a functionResponse.
    contents = gemini_server.requests[1].body["contents"]
    assert [content["role"] for content in contents] == ["user", "model", "user"]
    sent_call = contents[1]["parts"][0]["function_call"]
    assert sent_call == {"name": "get_current_temperature", "args": {"location": "London"}}
    function_response = contents[2]["parts"][0]["function_response"]
    assert function_response["name"] == "get_current_temperature"
    assert "15" in json.dumps(function_response["response"])

    first, second = rows(store, gateway)
    assert answered.completion.text == second["response"]
    assert second["response"] == "The current temperature in London is 15 degrees Celsius."
    assert {first["conversation_id"], second["conversation_id"]} == {"gemini-loop"}
    assert second["parent_request_id"] == first["request_id"] == planned.request_id
    assert json.loads(first["tool_calls"])[0]["name"] == "get_current_temperature"
    assert second["tool_calls"] is None
    # The tool's result is kept with the messages the second call sent.
    assert "temperature" in json.loads(second["messages"])[2]["content"]
    assert (second["prompt_tokens"], second["completion_tokens"]) == (95, 12)
    assert second["cost"] == pytest.approx(expected_cost(PRICED, prompt=95, completion=12))
    assert chain_verifies(store, gateway)


def _wire(call: dict[str, Any]) -> dict[str, Any]:
    """A recorded tool call as OpenAI's message shape, which litellm translates for Gemini."""
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


async def test_an_image_input(store: Store, gemini_server: GeminiServer, gateway: Gateway) -> None:
    image = png(1, 1, (255, 0, 0))
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    gemini_server.answer(body("image.json"))
    thread = CallThread(conversation_id="gemini-image")
    result = await gateway.complete(MODEL, [message], thread=thread)

    parts = gemini_server.requests[0].body["contents"][0]["parts"]
    inline = next(part["inline_data"] for part in parts if "inline_data" in part)
    assert inline["mime_type"] == "image/png" and base64.b64decode(inline["data"]) == image
    (row,) = rows(store, gateway)
    assert row["response"] == result.completion.text and row["status"] == "ok"
    # The image's 258 tokens are in the prompt count Gemini reports.
    assert (row["prompt_tokens"], row["completion_tokens"]) == (266, 13)
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=266, completion=13))
    assert row["conversation_id"] == "gemini-image"
    # The part beside the call, estimated at the 258 tokens Gemini counted for it.
    recorded = assert_image_recorded(store, row, image, width=1, height=1)
    assert recorded.tokens == 258
    assert chain_verifies(store, gateway)


async def test_an_image_priced_per_image_replaces_its_tokens(
    store: Store, gemini_server: GeminiServer, sleeps: Sleeps
) -> None:
    """A model litellm's table prices per input image: the image the request sent (its parts)
    is billed at that price, instead of the 258 tokens Gemini counted for it."""
    model = "gemini/gemini-3-pro-image-preview"
    gateway = wire_gateway(store, model, gemini_server.api_base, sleeps)
    image = png(1, 1, (255, 0, 0))
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
    gemini_server.answer(body("image.json"))
    await gateway.complete(model, [message])

    (row,) = rows(store, gateway)
    entry = bundled_model_table()[model]
    text_tokens = 266 - 258  # promptTokensDetails: TEXT 8, IMAGE 258
    assert (row["prompt_tokens"], row["completion_tokens"]) == (266, 13)
    assert row["cost"] == pytest.approx(
        text_tokens * entry["input_cost_per_token"]
        + entry["input_cost_per_image"]
        + 13 * entry["output_cost_per_token"]
    )
    assert row["cost"] == pytest.approx(0.001272)
    assert_image_recorded(store, row, image, width=1, height=1)
    assert chain_verifies(store, gateway)


# Gemini's usageMetadata for an audio input: promptTokensDetails by modality (ai.google.dev/api/
# generate-content#UsageMetadata), 32 tokens per second of audio (ai.google.dev/gemini-api/docs/
# audio): a 5-second clip is 160. The rest of the body is the image reference's.
AUDIO_USAGE = {
    "promptTokenCount": 168,
    "candidatesTokenCount": 13,
    "totalTokenCount": 181,
    "promptTokensDetails": [
        {"modality": "TEXT", "tokenCount": 8},
        {"modality": "AUDIO", "tokenCount": 160},
    ],
}


async def test_audio_tokens_are_billed_at_the_audio_rate(
    store: Store, gemini_server: GeminiServer, gateway: Gateway
) -> None:
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
    audio = {"data": base64.b64encode(wav).decode(), "format": "wav"}
    message = {"role": "user", "content": [{"type": "input_audio", "input_audio": audio}]}
    gemini_server.answer(
        Reply(body={**reference("gemini", "image.json"), "usageMetadata": AUDIO_USAGE})
    )
    await gateway.complete(MODEL, [message])

    parts = gemini_server.requests[0].body["contents"][0]["parts"]
    assert any(
        base64.b64decode(p["inline_data"]["data"]) == wav for p in parts if "inline_data" in p
    )
    (row,) = rows(store, gateway)
    entry = bundled_model_table()[PRICED]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (168, 13)
    assert row["cost"] == pytest.approx(
        8 * entry["input_cost_per_token"]
        + 160 * entry["input_cost_per_audio_token"]
        + 13 * entry["output_cost_per_token"]
    )
    # $1.00 per million audio tokens instead of $0.30.
    assert row["cost"] - expected_cost(PRICED, prompt=168, completion=13) == pytest.approx(
        160 * (1.00 - 0.30) / 1_000_000
    )
    assert chain_verifies(store, gateway)


async def test_thinking_and_cached_tokens_are_counted_apart_and_priced(
    store: Store, gemini_server: GeminiServer, gateway: Gateway
) -> None:
    gemini_server.answer(body("thinking_cached.json"))
    await gateway.complete(MODEL, ASK, thread=CallThread(conversation_id="gemini-think"))

    usage = _usage("thinking_cached.json")
    (row,) = rows(store, gateway)
    # Gemini counts thoughts apart from candidates; billed, they are part of the completion.
    completion = usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (4123, completion) == (4123, 942)
    assert (row["reasoning_tokens"], row["cached_tokens"]) == (904, 4096)
    assert row["reasoning_tokens"] == usage["thoughtsTokenCount"]
    assert row["cached_tokens"] == usage["cachedContentTokenCount"]
    assert row["cache_write_tokens"] is None
    assert row["cached_price"] == pytest.approx(0.03) and row["reasoning_price"] == pytest.approx(
        2.5
    )
    cost = expected_cost(PRICED, prompt=4123, completion=942, cached=4096, reasoning=904)
    assert row["cost"] == pytest.approx(cost)
    # Each cached token is billed at $0.03 per million instead of $0.30 (litellm's table).
    saved = expected_cost(PRICED, prompt=4123, completion=942) - row["cost"]
    assert saved == pytest.approx(4096 * (0.30 - 0.03) / 1_000_000)
    assert row["conversation_id"] == "gemini-think"
    assert chain_verifies(store, gateway)


async def test_rate_limit_and_unavailable_are_failed_attempts_then_retried(
    store: Store, gemini_server: GeminiServer, gateway: Gateway, sleeps: Sleeps
) -> None:
    gemini_server.answer(
        body("error_429.json", status=429), body("error_503.json", status=503), body("text.json")
    )
    thread = CallThread(conversation_id="gemini-retry")
    result = await gateway.complete(
        MODEL, [{"role": "user", "content": "Explain AI"}], thread=thread
    )

    assert [a.status for a in result.attempts] == ["rate_limited", "error", "ok"]
    limited, unavailable, answered = rows(store, gateway)
    assert limited["request_id"] == unavailable["request_id"] == answered["request_id"]
    assert [r["attempt"] for r in (limited, unavailable, answered)] == [1, 2, 3]
    assert (limited["status"], limited["error_kind"]) == ("rate_limited", "rate_limited")
    assert "You exceeded your current quota" in limited["error"]
    assert (unavailable["status"], unavailable["error_kind"]) == ("error", "server")
    assert "The model is overloaded" in unavailable["error"]
    for failed in (limited, unavailable):
        assert failed["cost"] is None and failed["response"] is None
        assert failed["conversation_id"] == "gemini-retry"
    assert (answered["prompt_tokens"], answered["completion_tokens"]) == (8, 26)
    assert answered["cost"] == pytest.approx(expected_cost(PRICED, prompt=8, completion=26))
    assert len(sleeps.waits) == 2  # backed off before each retry, per the gateway's policy
    assert len(gemini_server.requests) == 3 and gemini_server.unanswered == 0
    assert chain_verifies(store, gateway)
    _assert_key_stayed_out(store, gemini_server)


async def test_the_retry_waits_for_geminis_retry_delay(
    store: Store, gemini_server: GeminiServer, gateway: Gateway, sleeps: Sleeps
) -> None:
    gemini_server.answer(body("error_429.json", status=429), body("text.json"))
    await gateway.complete(MODEL, [{"role": "user", "content": "Explain AI"}])

    (detail,) = [
        d
        for d in reference("gemini", "error_429.json")["error"]["details"]
        if d["@type"].endswith("RetryInfo")
    ]
    assert detail["retryDelay"] == "1s"
    (wait,) = sleeps.waits
    assert wait >= 1.0  # never sooner than the provider asked (gateway/attempt_policy.py)
    limited, _answered = rows(store, gateway)
    assert limited["status"] == "rate_limited"
