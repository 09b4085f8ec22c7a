"""OpenAI's Responses API through the gateway's litellm path (`openai/responses/<model>` with
`api_base` at a loopback server answering with OpenAI's reference bodies and events): text
whole and streamed, a function call whole and streamed (`response.function_call_arguments.delta`),
a function-call loop in one conversation, an image input, reasoning and cached tokens, and a
429. Each call is checked by reading its row back from the SQLite file: tokens, cost at
litellm's table rates for the model's own name, tool calls, conversation id; the chain still
verifies. The default transport ("direct", chat completions only) must leave these models to
litellm."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.models import CallThread
from llmbench.gateway.engine import Gateway
from llmbench.store.db import Store, open_db
from tests.support.images import png
from tests.support.openai_responses_server import (
    ResponsesServer,
    body,
    running_responses_server,
    stream,
)
from tests.support.wire_calls import (
    Sleeps,
    chain_verifies,
    expected_cost,
    rows,
    streamed,
    wire_gateway,
)
from tests.support.wire_parts import assert_image_recorded
from tests.support.wire_server import reference

MODEL = "openai/responses/gpt-4.1"
PRICED = "gpt-4.1"  # litellm's table entry: the Responses API bills at the model's own rates
OPENAI_TEST_KEY = "sk-test-responses-loopback-0123456789"
ASK = [{"role": "user", "content": "What is the weather like in Paris today?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get current temperature for a given location.",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]
STORY = reference("openai_responses", "text.json")["output"][0]["content"][0]["text"]


@pytest.fixture
def responses_server() -> Iterator[ResponsesServer]:
    yield from running_responses_server()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_TEST_KEY)
    with open_db(tmp_path / "responses.db") as opened:
        yield opened


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _gateway(store: Store, server: ResponsesServer, sleeps: Sleeps, model: str = MODEL) -> Gateway:
    return wire_gateway(store, model, server.api_base, sleeps)


def _assert_sent_to_responses(server: ResponsesServer, store: Store) -> None:
    assert server.requests and all(r.path == "/v1/responses" for r in server.requests)
    assert all(
        r.headers.get("Authorization") == f"Bearer {OPENAI_TEST_KEY}" for r in server.requests
    )
    dump = json.dumps(list(store.read().query("SELECT * FROM calls")), default=str)
    assert OPENAI_TEST_KEY not in dump


@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "streamed"])
async def test_a_text_answer(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps, streaming: bool
) -> None:
    gateway = _gateway(store, responses_server, sleeps)
    ask = [{"role": "user", "content": "Tell me a three sentence bedtime story about a unicorn."}]
    thread = CallThread(conversation_id="responses-text")
    if streaming:
        responses_server.answer(stream("stream_text.json"))
        result = await streamed(gateway, MODEL, ask, thread=thread)
    else:
        responses_server.answer(body("text.json"))
        result = await gateway.complete(MODEL, ask, thread=thread)

    (sent,) = responses_server.requests
    assert sent.body["model"] == "gpt-4.1" and sent.body.get("stream", False) is streaming
    assert sent.body["input"][0]["content"][0] == {"type": "input_text", "text": ask[0]["content"]}
    (row,) = rows(store, gateway)
    assert row["response"] == result.completion.text == STORY
    assert (row["prompt_tokens"], row["completion_tokens"]) == (36, 87)
    assert not row["tokens_estimated"] and row["tool_calls"] is None
    # OpenAI sends reasoning_tokens 0 for a model that does not reason: recorded as none.
    assert (row["reasoning_tokens"], row["cached_tokens"]) == (None, 0)
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=36, completion=87))
    assert row["conversation_id"] == "responses-text" and row["status"] == "ok"
    if streaming:
        assert row["ttft_ms"] is not None
    assert chain_verifies(store, gateway)
    _assert_sent_to_responses(responses_server, store)


@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "streamed"])
async def test_a_function_call_answer(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps, streaming: bool
) -> None:
    gateway = _gateway(store, responses_server, sleeps)
    thread = CallThread(conversation_id="responses-tools")
    if streaming:
        # The arguments arrive in seven response.function_call_arguments.delta events.
        responses_server.answer(stream("stream_function_call.json"))
        result = await streamed(gateway, MODEL, ASK, params={"tools": TOOLS}, thread=thread)
    else:
        responses_server.answer(body("function_call.json"))
        result = await gateway.complete(MODEL, ASK, params={"tools": TOOLS}, thread=thread)

    (sent,) = responses_server.requests
    assert [tool["name"] for tool in sent.body["tools"]] == ["get_weather"]
    (call,) = result.completion.tool_calls
    assert (call.id, call.name) == ("call_unLAR8MvFNptuiZK6K6HCy5k", "get_weather")
    assert json.loads(call.arguments) == {"location": "Paris, France"}
    (row,) = rows(store, gateway)
    assert json.loads(row["tool_calls"]) == [call.as_dict()]
    assert row["finish_reason"] == "tool_calls" and not row["response"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (291, 23)
    assert not row["tokens_estimated"]
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=291, completion=23))
    assert row["conversation_id"] == "responses-tools"
    assert chain_verifies(store, gateway)


async def test_a_function_call_loop_is_one_conversation(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps
) -> None:
    gateway = _gateway(store, responses_server, sleeps)
    responses_server.answer(body("function_call.json"), body("function_output_answer.json"))
    thread = CallThread(conversation_id="responses-loop", trace_id="run-1")
    planned = await gateway.complete(MODEL, ASK, params={"tools": TOOLS}, thread=thread)
    (call,) = planned.completion.tool_calls
    loop = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [_wire(call.as_dict())]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"celsius": 14}'},
    ]
    step = CallThread("responses-loop", "run-1", planned.request_id)
    answered = await gateway.complete(MODEL, loop, params={"tools": TOOLS}, thread=step)

    # The call went back as a function_call item, its result as a function_call_output.
    items = responses_server.requests[1].body["input"]
    sent_call = next(item for item in items if item.get("type") == "function_call")
    assert (sent_call["call_id"], sent_call["name"]) == (call.id, "get_weather")
    output = next(item for item in items if item.get("type") == "function_call_output")
    assert output["call_id"] == call.id and "14" in json.dumps(output["output"])

    first, second = rows(store, gateway)
    assert second["response"] == answered.completion.text
    assert second["response"] == "The current temperature in Paris is 14°C (57.2°F)."
    assert {first["conversation_id"], second["conversation_id"]} == {"responses-loop"}
    assert second["parent_request_id"] == first["request_id"] == planned.request_id
    assert json.loads(first["tool_calls"])[0]["id"] == call.id and second["tool_calls"] is None
    assert json.loads(second["messages"])[2]["tool_call_id"] == call.id
    assert (second["prompt_tokens"], second["completion_tokens"]) == (345, 17)
    assert second["cost"] == pytest.approx(expected_cost(PRICED, prompt=345, completion=17))
    assert chain_verifies(store, gateway)


def _wire(call: dict[str, Any]) -> dict[str, Any]:
    """A recorded tool call as OpenAI's chat message shape, which litellm turns into an item."""
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


async def test_an_image_input(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps
) -> None:
    gateway = _gateway(store, responses_server, sleeps)
    image = png(1, 1, (255, 0, 0))
    url = "data:image/png;base64," + base64.b64encode(image).decode()
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    responses_server.answer(body("image.json"))
    result = await gateway.complete(
        MODEL, [message], thread=CallThread(conversation_id="responses-image")
    )

    content = responses_server.requests[0].body["input"][0]["content"]
    sent_image = next(part for part in content if part["type"] == "input_image")
    assert sent_image["image_url"] == url
    (row,) = rows(store, gateway)
    assert row["response"] == result.completion.text == "The image is a single red pixel."
    assert (row["prompt_tokens"], row["completion_tokens"]) == (100, 9)
    assert row["cost"] == pytest.approx(expected_cost(PRICED, prompt=100, completion=9))
    assert row["conversation_id"] == "responses-image"
    # The part beside the call; a 1×1 image is one 512-px tile: 170 + 85 tokens.
    recorded = assert_image_recorded(store, row, image, width=1, height=1)
    assert recorded.tokens == 255
    assert chain_verifies(store, gateway)


async def test_reasoning_and_cached_tokens_are_counted_apart_and_priced(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps
) -> None:
    model = "openai/responses/o4-mini"
    gateway = _gateway(store, responses_server, sleeps, model)
    responses_server.answer(body("reasoning_cached.json"))
    thread = CallThread(conversation_id="responses-reasoning")
    result = await gateway.complete(
        model, ASK, params={"reasoning_effort": "medium"}, thread=thread
    )

    assert responses_server.requests[0].body["reasoning"]["effort"] == "medium"
    usage = reference("openai_responses", "reasoning_cached.json")["usage"]
    (row,) = rows(store, gateway)
    assert row["response"] == result.completion.text
    assert (row["prompt_tokens"], row["completion_tokens"]) == (2081, 1186)
    assert row["reasoning_tokens"] == usage["output_tokens_details"]["reasoning_tokens"] == 1024
    assert row["cached_tokens"] == usage["input_tokens_details"]["cached_tokens"] == 1920
    assert row["cache_write_tokens"] is None
    # o4-mini has a cache-read rate and no reasoning rate: reasoning is billed as output.
    assert row["cached_price"] == pytest.approx(0.275) and row["reasoning_price"] is None
    cost = expected_cost("o4-mini", prompt=2081, completion=1186, cached=1920, reasoning=1024)
    assert row["cost"] == pytest.approx(cost)
    assert row["conversation_id"] == "responses-reasoning"
    assert chain_verifies(store, gateway)


async def test_a_rate_limit_is_a_failed_attempt_then_retried(
    store: Store, responses_server: ResponsesServer, sleeps: Sleeps
) -> None:
    gateway = _gateway(store, responses_server, sleeps)
    responses_server.answer(body("error_429.json", status=429), body("text.json"))
    thread = CallThread(conversation_id="responses-retry")
    result = await gateway.complete(MODEL, ASK, thread=thread)

    assert [attempt.status for attempt in result.attempts] == ["rate_limited", "ok"]
    limited, answered = rows(store, gateway)
    assert limited["request_id"] == answered["request_id"]
    assert [limited["attempt"], answered["attempt"]] == [1, 2]
    assert (limited["status"], limited["error_kind"]) == ("rate_limited", "rate_limited")
    assert "Rate limit reached for gpt-4.1" in limited["error"]
    assert limited["cost"] is None and limited["conversation_id"] == "responses-retry"
    assert answered["cost"] == pytest.approx(expected_cost(PRICED, prompt=36, completion=87))
    assert len(sleeps.waits) == 1 and responses_server.unanswered == 0
    assert chain_verifies(store, gateway)
    _assert_sent_to_responses(responses_server, store)
