"""A call whose provider sends no usage is counted offline with its tool definitions: the row's
prompt tokens are what OpenAI would have billed for the messages and the tools (the figure of
hmarr/openai-chat-tokens' API-checked test cases), and its cost is priced on them.

Through the loopback OpenAI-compatible server, streamed without a usage chunk, by both
transports (the OpenAI SDK's direct path and litellm's)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.tokens import count_message_tokens
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

HELLO = [{"role": "user", "content": "hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bing_bong",
            "description": "Do a bing bong",
            "parameters": {
                "type": "object",
                "properties": {
                    "foo": {"type": "string"},
                    "bar": {"type": "number", "description": "A number"},
                },
            },
        },
    }
]
# OpenAI's prompt_tokens for this request (gpt-3.5-turbo, cl100k_base): hmarr/openai-chat-tokens
# tests/token-counts.test.ts. The scenario's model name is not OpenAI's, so it is counted with
# cl100k_base too.
BILLED = 57


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    with open_db(tmp_path / "tools.db") as opened:
        yield opened


async def _no_sleep(_: float) -> None:
    return None


def _gateway(store: Store, server: OpenAICompatibleServer, model: str, transport: str) -> Gateway:
    settings = Settings(
        gateway=replace(GatewaySettings(), openai_transport=transport),
        model={model: ModelOptions(api_base=server.base_url)},
    )
    return Gateway(AuditRecorder(store), settings, sleep=_no_sleep)


async def _streamed(gateway: Gateway, model: str, **options: Any) -> GatewayResult:
    final = None
    async for piece in gateway.stream(model, HELLO, **options):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    return final


@pytest.mark.parametrize("transport", ["direct", "litellm"])
async def test_an_unreported_prompt_counts_the_tool_definitions(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = f"tools-no-usage-{transport}"
    model = f"openai/{server.scenario(name, reply='Bing bong.', stream_usage=False)}"
    gateway = _gateway(store, server, model, transport)
    result = await _streamed(gateway, model, params={"tools": TOOLS})
    forced = {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "foo"}}}
    await _streamed(gateway, model, params=forced)

    (sent, _) = server.requests_for(model.removeprefix("openai/"))
    assert sent.body["tools"] == TOOLS and "stream_options" in sent.body
    gateway.recorder.flush()
    plain, chosen = store.read().query("SELECT * FROM calls ORDER BY id")
    assert (plain["prompt_tokens"], plain["tokens_estimated"]) == (BILLED, 1)
    assert result.completion.usage.prompt_tokens == BILLED
    assert count_message_tokens(HELLO, model) == 8  # the message alone
    # A forced tool adds 4 tokens and its name's ("foo": 1).
    assert chosen["prompt_tokens"] == BILLED + 4 + 1
