"""The gateway call against a real OpenAI-compatible HTTP server on 127.0.0.1, and prices."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from llmbench.core.models import Price, Usage
from llmbench.core.pricing import SIMULATOR_PRICES, cost_of
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.client import CompletionResult, complete, price_for, stream
from llmbench.gateway.keys import set_key
from llmbench.gateway.litellm_setup import litellm_module

from .conftest import MemoryKeyring

MESSAGES = [{"role": "user", "content": "Say hello."}]
KEY = "sk-keyring-71c0a9d3e5f24b68"


def _chat_reply(model: str, usage: dict[str, object] | None) -> dict[str, object]:
    reply: dict[str, object] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there!"},
                "finish_reason": "stop",
            }
        ],
    }
    if usage is not None:
        reply["usage"] = usage
    return reply


def _sse(model: str, usage: dict[str, int] | None = None) -> str:
    events: list[dict[str, object]] = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
        {"choices": [{"index": 0, "delta": {"content": "lo!"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    if usage is not None:
        events.append({"choices": [], "usage": usage})
    header = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": model}
    lines = [f"data: {json.dumps(header | event)}" for event in events]
    return "\n\n".join([*lines, "data: [DONE]", ""])


async def _stream_from(httpserver: HTTPServer, model: str) -> tuple[str, CompletionResult]:
    pieces: list[str] = []
    final = None
    async for item in stream(
        model,
        MESSAGES,
        params={"api_base": httpserver.url_for("/v1"), "api_key": "unused"},
        timeout=10,
    ):
        if isinstance(item, str):
            pieces.append(item)
        else:
            final = item
    assert final is not None
    return "".join(pieces), final


async def test_unlisted_model_is_unpriced_with_the_servers_counts(httpserver: HTTPServer) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        _chat_reply("my-local-model", usage)
    )
    result = await complete(
        "openai/my-local-model",
        MESSAGES,
        params={"api_base": httpserver.url_for("/v1"), "api_key": "unused"},
        timeout=10,
    )
    assert result.text == "Hello there!"
    assert result.usage == Usage(prompt_tokens=11, completion_tokens=4)
    assert result.cost is None and result.price is None  # unpriced, not 0
    assert result.model == "openai/my-local-model"


async def test_missing_usage_is_estimated_and_marked(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        _chat_reply("gpt-4o-mini", None)
    )
    result = await complete(
        "openai/gpt-4o-mini",
        MESSAGES,
        params={"api_base": httpserver.url_for("/v1"), "api_key": "unused"},
        timeout=10,
    )
    assert result.usage == Usage(
        prompt_tokens=count_message_tokens(MESSAGES, "gpt-4o-mini"),
        completion_tokens=count_tokens("Hello there!", "gpt-4o-mini"),
        estimated=True,
    )
    assert result.price is not None
    assert result.cost == cost_of(result.usage, result.price)


async def test_a_stream_without_usage_is_estimated(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        _sse("local"), content_type="text/event-stream"
    )
    text, final = await _stream_from(httpserver, "openai/local")
    assert text == final.text == "Hello!"
    # litellm fills in usage of its own for such streams; the gateway recounts and says so.
    assert final.usage == Usage(
        prompt_tokens=count_message_tokens(MESSAGES, "openai/local"),
        completion_tokens=count_tokens("Hello!", "openai/local"),
        estimated=True,
    )
    assert final.cost is None
    assert final.ttft_ms is not None and final.ttft_ms <= final.latency_ms


async def test_a_stream_with_usage_keeps_the_servers_counts(httpserver: HTTPServer) -> None:
    usage = {"prompt_tokens": 111, "completion_tokens": 22, "total_tokens": 133}
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        _sse("gpt-4o-mini", usage), content_type="text/event-stream"
    )
    text, final = await _stream_from(httpserver, "openai/gpt-4o-mini")
    assert text == "Hello!"
    assert final.usage == Usage(prompt_tokens=111, completion_tokens=22)
    assert final.cost == cost_of(final.usage, price_for("gpt-4o-mini"))


async def test_a_keyring_key_is_sent_when_the_environment_has_none(
    httpserver: HTTPServer, memory_keyring: MemoryKeyring, no_key_env: None
) -> None:
    set_key("openai", KEY)
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("Authorization", ""))
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        return Response(json.dumps(_chat_reply("x", usage)), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    await complete("openai/x", MESSAGES, params={"api_base": httpserver.url_for("/v1")}, timeout=10)
    assert seen == [f"Bearer {KEY}"]


def test_prices_come_only_from_explicit_entries() -> None:
    litellm = litellm_module()
    assert price_for("llmbench/mock") == SIMULATOR_PRICES["llmbench/mock"]
    entry = litellm.model_cost["gpt-4o-mini"]
    expected = Price(
        input=entry["input_cost_per_token"] * 1_000_000,
        output=entry["output_cost_per_token"] * 1_000_000,
        cached=entry["cache_read_input_token_cost"] * 1_000_000,
    )
    assert price_for("gpt-4o-mini") == pytest.approx(expected)
    assert price_for("openai/gpt-4o-mini") == price_for("gpt-4o-mini")
    # A self-hosted model that shares a name with a hosted one is not billed like it.
    assert price_for("hosted_vllm/gpt-4o-mini") is None
    assert price_for("hosted_vllm/my-model", answered_model="gpt-4o-mini") is None
    assert price_for("openai/gpt-4o", answered_model="gpt-4o-2024-08-06") == price_for("gpt-4o")
    # litellm's get_model_info() answers 0 for unlisted models that match its capability
    # rules (any "claude-opus-*"): read as a price, that would be a silent 0.
    unlisted = "anthropic/claude-opus-9"
    assert litellm.get_model_info(unlisted)["input_cost_per_token"] == 0
    assert price_for(unlisted) is None
    assert price_for("no-provider-model") is None
