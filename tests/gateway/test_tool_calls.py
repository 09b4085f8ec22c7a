"""An answer that calls tools, through the gateway, on OpenAI's wire format (the loopback
server answers as https://platform.openai.com/docs/api-reference/chat/object and its streaming
chunks show): the caller gets the calls, typed, whole or assembled from a stream's deltas, by
either transport; the audit row keeps them, sealed with the call's content; a purge empties
them as it empties the messages; a cache hit answers with them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.models import ToolCall
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.audit.log import database_id, plan_purge, purge, verify_chain
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

MESSAGES = [{"role": "user", "content": "What is the weather in Paris and in Oslo?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
CALLS = (
    {"id": "call_paris", "name": "get_weather", "arguments": '{"city": "Paris"}'},
    {"id": "call_oslo", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
)
EXPECTED = tuple(ToolCall(**call) for call in CALLS)
TRANSPORTS = ("direct", "litellm")


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "tools.db") as opened:
        yield opened


def _gateway(store: Store, server: OpenAICompatibleServer, model: str, transport: str) -> Gateway:
    settings = Settings(
        gateway=replace(GatewaySettings(), openai_transport=transport),
        model={
            model: ModelOptions(api_base=server.base_url),
            "openai/plain": ModelOptions(api_base=server.base_url),
        },
    )
    return Gateway(AuditRecorder(store), settings, sleep=_no_sleep)


def _row(store: Store, gateway: Gateway) -> dict[str, object]:
    gateway.recorder.flush()
    cursor = store.read().execute(
        "SELECT response, tool_calls, finish_reason, completion_tokens, status FROM calls"
        " ORDER BY id DESC LIMIT 1"
    )
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_tool_call_answer_reaches_the_caller_and_the_log(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(f"tools-{transport}", tool_calls=CALLS)
    gateway = _gateway(store, server, f"openai/{name}", transport)
    result = await gateway.complete(f"openai/{name}", MESSAGES, params={"tools": TOOLS})
    assert result.completion.tool_calls == EXPECTED
    assert result.text == "" and result.completion.finish_reason == "tool_calls"
    assert result.completion.usage.completion_tokens > 0
    row = _row(store, gateway)
    assert json.loads(str(row["tool_calls"])) == [dict(call) for call in CALLS]
    assert row["finish_reason"] == "tool_calls" and row["status"] == "ok"
    (request,) = server.requests_for(name)
    assert request.body["tools"] == TOOLS


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_streamed_tool_call_is_assembled_from_its_deltas(
    store: Store, server: OpenAICompatibleServer, transport: str
) -> None:
    name = server.scenario(f"tools-stream-{transport}", tool_calls=CALLS, reply="Checking.")
    gateway = _gateway(store, server, f"openai/{name}", transport)
    final: GatewayResult | None = None
    pieces: list[str] = []
    async for piece in gateway.stream(f"openai/{name}", MESSAGES, params={"tools": TOOLS}):
        if isinstance(piece, GatewayResult):
            final = piece
        else:
            pieces.append(piece)
    assert final is not None
    assert "".join(pieces) == final.text == "Checking."
    assert final.completion.tool_calls == EXPECTED
    row = _row(store, gateway)
    assert row["response"] == "Checking."
    assert json.loads(str(row["tool_calls"])) == [dict(call) for call in CALLS]


async def test_tool_calls_are_sealed_and_a_purge_empties_them(
    store: Store, server: OpenAICompatibleServer
) -> None:
    name = server.scenario("tools-sealed", tool_calls=CALLS)
    gateway = _gateway(store, server, f"openai/{name}", "direct")
    await gateway.complete(f"openai/{name}", MESSAGES, params={"tools": TOOLS})
    await gateway.complete("openai/plain", MESSAGES)  # a call without any, after it
    gateway.recorder.flush()
    key = load_chain_key(database_id(store.read()))
    assert verify_chain(store.read(), key).ok

    # An edit of the calls alone is caught: they are part of the sealed content.
    forged = json.dumps([{**CALLS[0], "arguments": '{"city": "Atlantis"}'}])
    tampered = store.path.with_name("tampered.db")
    store.read().execute("VACUUM INTO ?", [str(tampered)])
    with open_db(tampered, create=False) as copy:

        def forge(db: object) -> None:
            db.execute("DROP TRIGGER calls_no_update")  # type: ignore[attr-defined]
            db.execute("UPDATE calls SET tool_calls = ? WHERE id = 1", [forged])  # type: ignore[attr-defined]

        copy.write(forge)
        report = verify_chain(copy.read(), key)
    assert not report.ok and "call 1" in str(report.problem)

    plan = plan_purge(store.read(), None, "2999-01-01T00:00:00Z")
    store.write(lambda db: purge(db, key, plan, "tool-call retention test"))
    assert (
        store.read()
        .execute("SELECT count(*) FROM calls WHERE tool_calls IS NOT NULL")
        .fetchone()[0]
        == 0
    )
    assert verify_chain(store.read(), key).ok


async def test_a_cache_hit_answers_with_the_tool_calls(
    store: Store, server: OpenAICompatibleServer
) -> None:
    name = server.scenario("tools-cached", tool_calls=CALLS)
    gateway = _gateway(store, server, f"openai/{name}", "direct")
    ask = {"params": {"tools": TOOLS}, "cache": "exact"}
    first = await gateway.complete(f"openai/{name}", MESSAGES, **ask)  # type: ignore[arg-type]
    gateway.recorder.flush()
    again = await gateway.complete(f"openai/{name}", MESSAGES, **ask)  # type: ignore[arg-type]
    assert again.cache == "exact"
    assert again.completion.tool_calls == first.completion.tool_calls == EXPECTED
    assert len(server.requests_for(name)) == 1
