"""A call's conversation, trace and parent step, recorded from each door over HTTP to the
loopback OpenAI-compatible server: the SDK's `Bench.conversation()` and its plain parameters
(whole, streamed, a tool loop, a failure), and the litellm callback from litellm's own session
and trace ids. Each is verified by reading the rows back; the chain still verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.config import ModelOptions, Settings
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.gateway.outcomes import GatewayError, GatewayResult
from llmbench.services.sdk import Bench
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.db import Store, open_db
from tests.support.litellm_callbacks import only_these_callbacks
from tests.support.openai_server import OpenAICompatibleServer

ASK = [{"role": "user", "content": "What is the weather in Oslo?"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
CALL = {"id": "call_oslo", "name": "get_weather", "arguments": '{"city": "Oslo"}'}
THREAD_COLUMNS = "request_id, conversation_id, trace_id, parent_request_id, status, tool_calls"


@pytest.fixture(autouse=True)
def loopback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")


def _rows(store: Store, where: str = "1") -> list[dict[str, Any]]:
    cursor = store.read().execute(f"SELECT {THREAD_COLUMNS} FROM calls WHERE {where} ORDER BY id")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_sdk_records_a_conversation_its_traces_and_steps(
    tmp_path: Path, server: OpenAICompatibleServer
) -> None:
    tools = "openai/" + server.scenario("conv-tools", tool_calls=(CALL,))
    plain = "openai/" + server.scenario("conv-plain", reply="It is 4 degrees in Oslo.")
    broken = "openai/" + server.scenario("conv-broken", fault="status", status=400)
    settings = Settings(
        model={name: ModelOptions(api_base=server.base_url) for name in (tools, plain, broken)}
    )
    with Bench(db=tmp_path / "sdk.db", settings=settings) as bench:
        with bench.conversation("support-42", trace=True) as chat:
            planned = chat.complete(tools, ASK, params={"tools": TOOLS})
            assert planned.completion.tool_calls[0].name == "get_weather"
            loop = [
                *ASK,
                {"role": "assistant", "content": None, "tool_calls": [planned_call(planned)]},
                {"role": "tool", "tool_call_id": "call_oslo", "content": '{"celsius": 4}'},
            ]
            answered = chat.step(planned).complete(plain, loop)
            streamed = [piece for piece in chat.stream(plain, ASK) if isinstance(piece, str)]
            assert "".join(streamed)
            with pytest.raises(GatewayError):
                chat.complete(broken, ASK)
            follow_up = chat.new_trace("run-2").complete(plain, ASK, parent=answered)
        generated = bench.complete(plain, ASK, conversation=None, trace=True)
        by_parameter = bench.complete(plain, ASK, conversation="support-43")
        alone = bench.complete(plain, ASK)
        # A key passed as an id is masked, as in a tag.
        secret = bench.complete(plain, ASK, conversation="sk-test-loopback-0123456789")

        # Bad ids are refused before anything is sent or recorded.
        before = len(_rows(bench.store))
        with pytest.raises(ValueError, match="conversation_id"):
            bench.complete(plain, ASK, conversation="  ")
        with pytest.raises(ValueError, match="trace_id"):
            bench.complete(plain, ASK, trace="x" * 500)
        with pytest.raises(TypeError, match="parent"):
            bench.complete(plain, ASK, parent=42)  # type: ignore[arg-type]
        assert len(_rows(bench.store)) == before

        rows = _rows(bench.store, "conversation_id = 'support-42'")
        assert [row["request_id"] for row in rows] == [
            planned.request_id,
            answered.request_id,
            rows[2]["request_id"],  # the stream
            rows[3]["request_id"],  # the failure
            follow_up.request_id,
        ]
        trace = chat.trace_id
        assert trace and [row["trace_id"] for row in rows] == [trace] * 4 + ["run-2"]
        assert [row["parent_request_id"] for row in rows] == [
            None,
            planned.request_id,
            None,
            None,
            answered.request_id,
        ]
        assert json.loads(rows[0]["tool_calls"])[0]["name"] == "get_weather"
        assert rows[3]["status"] == "error"
        (own,) = _rows(bench.store, f"request_id = '{generated.request_id}'")
        assert own["conversation_id"] is None and len(own["trace_id"]) == 32
        (named,) = _rows(bench.store, f"request_id = '{by_parameter.request_id}'")
        assert named["conversation_id"] == "support-43" and named["trace_id"] is None
        (none,) = _rows(bench.store, f"request_id = '{alone.request_id}'")
        assert (none["conversation_id"], none["trace_id"], none["parent_request_id"]) == (
            None,
            None,
            None,
        )
        (masked,) = _rows(bench.store, f"request_id = '{secret.request_id}'")
        assert "0123456789" not in masked["conversation_id"]
        assert bench.conversation().id != bench.conversation().id  # generated, each its own
        key = load_chain_key(database_id(bench.store.read()))
        assert verify_chain(bench.store.read(), key).ok


def planned_call(result: GatewayResult) -> dict[str, Any]:
    call = result.completion.tool_calls[0]
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": "{}"}}


@pytest.fixture
def callback(tmp_path: Path) -> Iterator[tuple[ModuleType, LLMBenchLogger]]:
    litellm = litellm_module()
    with open_db(tmp_path / "app.db") as store:
        logger = LLMBenchLogger(store=store)
        try:
            with only_these_callbacks(litellm, logger):
                yield litellm, logger
        finally:
            logger.close()


def test_the_callback_takes_litellms_session_and_trace_ids(
    callback: tuple[ModuleType, LLMBenchLogger], server: OpenAICompatibleServer
) -> None:
    litellm, logger = callback
    model = "openai/" + server.scenario("conv-callback", reply="Sunny.")
    call = {"model": model, "api_base": server.base_url, "max_retries": 0}
    given: list[dict[str, Any]] = [
        {"metadata": {"session_id": "chat-9", "trace_id": "agent-1"}},
        {"metadata": {"session_id": "chat-9", "parent_request_id": "step-1", "team": "help"}},
        {"litellm_session_id": "chat-10"},
        {"litellm_trace_id": "agent-2"},
        {"metadata": {"trace_id": "agent-3"}},
        {"metadata": {"session_id": ["not", "an", "id"]}},
        {},
    ]
    for n, extra in enumerate(given):
        litellm.completion(**call, messages=[{"role": "user", "content": f"call {n}"}], **extra)
    # litellm runs sync callbacks in its thread pool: rows land in any order.
    rows = sorted(_wait(logger, len(given)), key=lambda r: json.loads(r["messages"])[0]["content"])
    got = [(r["conversation_id"], r["trace_id"], r["parent_request_id"]) for r in rows]
    assert got == [
        ("chat-9", "agent-1", None),
        ("chat-9", None, "step-1"),
        ("chat-10", None, None),
        (None, "agent-2", None),
        (None, "agent-3", None),
        (None, None, None),
        (None, None, None),
    ]
    tags = [json.loads(r["tags"]) for r in rows]
    assert not any({"session_id", "trace_id", "parent_request_id"} & set(t) for t in tags)
    assert rows[1]["team"] == "help"
    key = load_chain_key(database_id(logger.store.read()))
    assert verify_chain(logger.store.read(), key).ok


def _wait(logger: LLMBenchLogger, count: int) -> list[dict[str, Any]]:
    import time

    deadline = time.monotonic() + 5
    while True:
        logger.flush()
        rows = list(logger.store.read().query("SELECT * FROM calls ORDER BY id"))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)
