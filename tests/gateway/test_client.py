"""The gateway call against a real OpenAI-compatible HTTP server on 127.0.0.1, and prices."""

from __future__ import annotations

import asyncio
import json
import time
from types import ModuleType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from llmbench.core.costs.pricing import SIMULATOR_PRICES, cost_of
from llmbench.core.models import Price, Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.client import complete, stream
from llmbench.gateway.completion_result import CompletionResult
from llmbench.gateway.keys import set_key
from llmbench.gateway.litellm_setup import gateway_pricing, litellm_module, stop_background_work
from llmbench.gateway.model_prices import price_for
from tests.support.openai_server import OpenAICompatibleServer

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


# --- what litellm does itself on a gateway call ---------------------------------------------

USAGE_WITH_CACHE = {
    "prompt_tokens": 1000,
    "completion_tokens": 200,
    "total_tokens": 1200,
    "prompt_tokens_details": {"cached_tokens": 400},
}
# Far from any real price, so a cost litellm computed from its own table cannot pass for it.
ODD_PRICE = Price(input=1000.0, output=3000.0, cached=10.0)


def _direct_call(httpserver: HTTPServer) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "api_base": httpserver.url_for("/v1"),
        "api_key": "unused",
        "num_retries": 0,
        "max_retries": 0,
    }


async def test_litellm_prices_gateway_calls_at_the_gateways_price_and_others_its_own(
    httpserver: HTTPServer, no_litellm_callbacks: ModuleType
) -> None:
    litellm = no_litellm_callbacks
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        _chat_reply("gpt-4o-mini", USAGE_WITH_CACHE)
    )
    with gateway_pricing(ODD_PRICE):
        priced = await litellm.acompletion(**_direct_call(httpserver))
    with gateway_pricing(None):
        unpriced = await litellm.acompletion(**_direct_call(httpserver))
    outside = await litellm.acompletion(**_direct_call(httpserver))

    usage = Usage(prompt_tokens=1000, completion_tokens=200, cached_tokens=400)
    assert priced._hidden_params["response_cost"] == pytest.approx(cost_of(usage, ODD_PRICE))
    assert unpriced._hidden_params["response_cost"] is None  # what litellm says when unpriced
    # An app's own litellm call is priced by litellm, from its table, as before.
    own = outside._hidden_params["response_cost"]
    assert own == pytest.approx(cost_of(usage, price_for("gpt-4o-mini")))
    assert own != pytest.approx(cost_of(usage, ODD_PRICE))


async def test_a_registered_callback_sees_gateway_calls_with_the_gateways_cost(
    httpserver: HTTPServer, server: OpenAICompatibleServer, no_litellm_callbacks: ModuleType
) -> None:
    from litellm.integrations.custom_logger import CustomLogger

    seen: list[Any] = []

    class Recording(CustomLogger):  # type: ignore[misc]
        async def async_log_success_event(self, kwargs: Any, *_: Any, **__: Any) -> None:
            seen.append(kwargs.get("response_cost"))

    no_litellm_callbacks.callbacks = [Recording()]
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        _chat_reply("gpt-4o-mini", USAGE_WITH_CACHE)
    )
    result = await complete(
        "openai/gpt-4o-mini",
        MESSAGES,
        params={"api_base": httpserver.url_for("/v1"), "api_key": "unused"},
        timeout=10,
    )
    await stop_background_work()
    assert result.cost is not None
    assert seen == [pytest.approx(result.cost)]

    final = None
    async for item in stream(
        "openai/gpt-4o-mini",
        MESSAGES,
        params={"api_base": server.base_url, "api_key": "unused"},
        timeout=10,
    ):
        final = item
    assert isinstance(final, CompletionResult)
    # litellm logs a stream from a task it starts once the stream is read: give it the time.
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await stop_background_work()
    assert final.cost is not None
    assert seen[1:] == [pytest.approx(final.cost)]


async def test_without_callbacks_litellm_builds_no_logging_payload_for_gateway_calls(
    httpserver: HTTPServer, no_litellm_callbacks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litellm.litellm_core_utils.litellm_logging import Logging

    built: list[str] = []
    original = Logging._async_success_handler_body

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(self.model)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Logging, "_async_success_handler_body", counting)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        _chat_reply("gpt-4o-mini", USAGE_WITH_CACHE)
    )
    params = {"api_base": httpserver.url_for("/v1"), "api_key": "unused"}
    await complete("openai/gpt-4o-mini", MESSAGES, params=params, timeout=10)
    await stop_background_work()
    assert built == []
    # An app's own call keeps litellm's success logging.
    await no_litellm_callbacks.acompletion(**_direct_call(httpserver))
    await stop_background_work()
    assert built == ["gpt-4o-mini"]
