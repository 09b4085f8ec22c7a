"""LLMBenchLogger records an app's own litellm calls, reached through litellm's normal HTTP path
to a real OpenAI-compatible server on 127.0.0.1 and through the built-in simulator."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmbench.core.costs.pricing import SIMULATOR_PRICES, cost_of
from llmbench.core.models import Usage
from llmbench.gateway.callback import LLMBenchLogger
from llmbench.gateway.litellm_setup import litellm_module
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support.litellm_callbacks import callback_lists_restored
from tests.support.openai_server import OpenAICompatibleServer

SECRET = "sk-test-Cb7Lq2Wn9Xr4Ty1Uv6Zs3Pm8"
MESSAGES = [{"role": "user", "content": "Which river runs through Paris?"}]


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    module = litellm_module()  # registers the llmbench/ simulator provider
    with callback_lists_restored(module):
        yield module


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "app.db") as opened:
        yield opened


@pytest.fixture
def logger(litellm: ModuleType, store: Store) -> Iterator[LLMBenchLogger]:
    installed = LLMBenchLogger(store=store, tags={"customer": "acme"})
    litellm.callbacks = [installed]
    yield installed
    installed.close()


def _openai(server: OpenAICompatibleServer, name: str, **scenario: Any) -> dict[str, Any]:
    return {
        "model": "openai/" + server.scenario(name, **scenario),
        "api_base": server.base_url,
        "api_key": SECRET,
        "max_retries": 0,  # the OpenAI SDK's own retries would only slow the failure tests
    }


def _rows(logger: LLMBenchLogger) -> list[dict[str, Any]]:
    logger.flush()
    return list(logger.store.read().query("SELECT * FROM calls ORDER BY id"))


def _wait_sync(logger: LLMBenchLogger, count: int, timeout_s: float = 5.0) -> list[dict]:
    """litellm runs sync callbacks in its thread pool: poll until they have landed."""
    deadline = time.monotonic() + timeout_s
    while len(rows := _rows(logger)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return rows


async def _wait_async(logger: LLMBenchLogger, count: int, timeout_s: float = 5.0) -> list[dict]:
    """litellm runs async callbacks on its logging worker: let it drain, then read."""
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    deadline = time.monotonic() + timeout_s
    await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), timeout_s)
    while len(rows := _rows(logger)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return rows


def _assert_no_secret(rows: list[dict]) -> None:
    assert not any(SECRET in json.dumps(row, default=str) for row in rows)


def test_a_sync_completion_is_recorded_with_its_tags(litellm, logger, server) -> None:
    call = _openai(server, "plain", cached_tokens=2)
    response = litellm.completion(
        messages=MESSAGES, metadata={"feature": "faq", "team": "web", "tier": "free"}, **call
    )
    assert response.choices[0].message.content == "Answer to: Which river runs through Paris?"
    rows = _wait_sync(logger, 1)
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["model_requested"], row["provider"]) == (
        "ok",
        call["model"],
        "openai",
    )
    assert row["model"] == call["model"]
    assert row["response"] == response.choices[0].message.content
    assert row["finish_reason"] == "stop"
    assert (row["prompt_tokens"], row["completion_tokens"], row["cached_tokens"]) == (
        response.usage.prompt_tokens,
        response.usage.completion_tokens,
        2,
    )
    assert row["tokens_estimated"] == 0
    assert row["cost"] is None  # a self-hosted model has no price: unpriced, not 0
    assert row["ttft_ms"] is None and row["latency_ms"] > 0
    assert (row["feature"], row["team"], row["customer"]) == ("faq", "web", "acme")
    assert json.loads(row["tags"]) == {"tier": "free"}
    assert json.loads(row["messages"]) == MESSAGES
    assert row["ts"].endswith("Z") and len(row["ts"]) == len("2026-01-01T00:00:00.000Z")
    _assert_no_secret(rows)
    assert verify_chain(logger.store.read(), logger.recorder.key).ok


async def test_an_async_simulator_call_is_priced(litellm, logger) -> None:
    response = await litellm.acompletion(model="llmbench/mock", messages=MESSAGES)
    rows = await _wait_async(logger, 1)
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["model"], row["provider"]) == ("ok", "llmbench/mock", "llmbench")
    usage = Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
    assert row["prompt_tokens"] == usage.prompt_tokens > 0
    assert row["cost"] == pytest.approx(cost_of(usage, SIMULATOR_PRICES["llmbench/mock"]))
    assert row["input_price"] == SIMULATOR_PRICES["llmbench/mock"].input
    assert row["response"] == response.choices[0].message.content


def test_a_sync_stream_is_recorded_once_with_its_first_token(litellm, logger, server) -> None:
    call = _openai(server, "streamed")
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in litellm.completion(
            messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **call
        )
        if chunk.choices
    ]
    rows = _wait_sync(logger, 1)
    time.sleep(0.2)  # a second record of the same stream would land by now
    rows = _rows(logger)
    assert len(rows) == 1
    row = rows[0]
    assert row["response"] == "".join(pieces) == "Answer to: Which river runs through Paris?"
    assert row["completion_tokens"] == len(row["response"].split())  # the server's own count
    assert row["tokens_estimated"] == 0
    assert 0 < row["ttft_ms"] <= row["latency_ms"]
    assert json.loads(row["params"])["stream"] is True


async def test_an_async_stream_without_usage_is_marked_estimated(litellm, logger, server) -> None:
    call = _openai(server, "no-usage", stream_usage=False)
    stream = await litellm.acompletion(messages=MESSAGES, stream=True, **call)
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    rows = await _wait_async(logger, 1)
    assert len(rows) == 1
    row = rows[0]
    assert row["response"] == text
    assert row["tokens_estimated"] == 1 and row["completion_tokens"] > 0
    assert row["ttft_ms"] is not None


async def test_an_async_simulator_stream_is_recorded_once(litellm, logger) -> None:
    stream = await litellm.acompletion(
        model="llmbench/mock", messages=MESSAGES, stream=True, metadata={"feature": "chat"}
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    rows = await _wait_async(logger, 1)
    assert [(row["response"], row["feature"], row["tokens_estimated"]) for row in rows] == [
        (text, "chat", 0)
    ]


def test_a_500_is_recorded_as_a_server_error(litellm, logger, server) -> None:
    call = _openai(server, "broken", fault="status", status=500)
    with pytest.raises(litellm.InternalServerError, match="scenario status 500"):
        litellm.completion(messages=MESSAGES, **call)
    rows = _wait_sync(logger, 1)
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["error_kind"]) == ("error", "server")
    assert "scenario status 500" in row["error"]
    assert row["response"] is None and row["cost"] is None
    _assert_no_secret(rows)


async def test_a_429_is_recorded_as_rate_limited(litellm, logger, server) -> None:
    call = _openai(server, "limited", fault="status", status=429, retry_after=1)
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(messages=MESSAGES, **call)
    rows = await _wait_async(logger, 1)
    assert [(row["status"], row["error_kind"]) for row in rows] == [
        ("rate_limited", "rate_limited")
    ]
    assert verify_chain(logger.store.read(), logger.recorder.key).checked == 1


def test_the_database_comes_from_llmbench_db(litellm, server, tmp_path, monkeypatch) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("LLMBENCH_DB", str(path))
    installed = LLMBenchLogger()
    litellm.callbacks = [installed]
    try:
        litellm.completion(messages=MESSAGES, **_openai(server, "env"))
        assert len(_wait_sync(installed, 1)) == 1
        assert installed.store.path == path
    finally:
        installed.close()


def test_a_broken_database_never_reaches_the_app(litellm, server, tmp_path, caplog) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    litellm.callbacks = [LLMBenchLogger(folder)]
    with caplog.at_level(logging.WARNING, logger="llmbench.gateway.callback"):
        response = litellm.completion(messages=MESSAGES, **_openai(server, "unharmed"))
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.02)
    assert response.choices[0].message.content.startswith("Answer to:")
    assert "could not record" in caplog.records[0].getMessage()


def test_an_app_retry_under_one_call_id_is_the_next_attempt(litellm, logger, server) -> None:
    call = _openai(server, "flaky", fault="status", status=503, fault_times=1)
    with pytest.raises(litellm.ServiceUnavailableError):
        litellm.completion(messages=MESSAGES, litellm_call_id="ticket-42", **call)
    _wait_sync(logger, 1)
    litellm.completion(messages=MESSAGES, litellm_call_id="ticket-42", **call)
    rows = _wait_sync(logger, 2)
    time.sleep(0.2)  # a duplicate of either event would land by now
    rows = _rows(logger)
    assert [(r["request_id"], r["attempt"], r["status"]) for r in rows] == [
        ("ticket-42", 1, "error"),
        ("ticket-42", 2, "ok"),
    ]
    assert verify_chain(logger.store.read(), logger.recorder.key).ok


async def test_a_router_retry_is_numbered_and_grouped_by_trace(litellm, logger, server) -> None:
    call = _openai(server, "routed", fault="status", status=429, retry_after=0, fault_times=1)
    router = litellm.Router(
        model_list=[{"model_name": "support", "litellm_params": call}], num_retries=1
    )
    response = await router.acompletion(
        model="support", messages=MESSAGES, metadata={"feature": "triage"}
    )
    assert response.choices[0].message.content.startswith("Answer to:")
    rows = await _wait_async(logger, 2)
    assert [(r["attempt"], r["status"], r["feature"]) for r in rows] == [
        (1, "rate_limited", "triage"),
        (2, "ok", "triage"),
    ]
    first, second = (json.loads(r["tags"]) for r in rows)
    # One trace groups the attempts; the Router's own bookkeeping is not recorded as tags.
    assert first == second == {"trace_id": first["trace_id"]}
    assert rows[0]["request_id"] != rows[1]["request_id"]


def test_a_sync_stream_keeps_its_cached_tokens(litellm, logger, server) -> None:
    call = _openai(server, "cached-stream", cached_tokens=4)
    for _ in litellm.completion(
        messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **call
    ):
        pass
    (row,) = _wait_sync(logger, 1)
    assert (row["cached_tokens"], row["tokens_estimated"]) == (4, 0)


async def test_an_async_stream_with_usage_keeps_its_counts(litellm, logger, server) -> None:
    call = _openai(server, "cached-astream", cached_tokens=4)
    stream = await litellm.acompletion(
        messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **call
    )
    text = "".join(
        [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    )
    (row,) = await _wait_async(logger, 1)
    assert row["completion_tokens"] == len(text.split())  # the server's own count
    assert (row["cached_tokens"], row["tokens_estimated"]) == (4, 0)


async def test_an_async_stream_whose_server_ignores_include_usage_is_estimated(
    litellm, logger, server
) -> None:
    call = _openai(server, "ignores-usage", stream_usage=False, cached_tokens=4)
    stream = await litellm.acompletion(
        messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **call
    )
    text = "".join(
        [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    )
    (row,) = await _wait_async(logger, 1)
    assert row["response"] == text
    assert row["tokens_estimated"] == 1 and row["cached_tokens"] == 0
    # litellm's own count of the answer, not the server's (it sent none)
    assert row["completion_tokens"] == litellm.token_counter(
        model=call["model"].removeprefix("openai/"), text=text, count_response_tokens=True
    )


async def test_a_router_fallback_is_the_next_attempt(litellm, logger, server) -> None:
    broken = _openai(server, "down", fault="status", status=500)
    spare = _openai(server, "spare")
    router = litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": broken},
            {"model_name": "backup", "litellm_params": spare},
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )
    await router.acompletion(model="primary", messages=MESSAGES)
    rows = await _wait_async(logger, 2)
    assert [(r["attempt"], r["status"], r["model"]) for r in rows] == [
        (1, "error", broken["model"]),
        (2, "ok", spare["model"]),
    ]
    assert len({json.loads(r["tags"])["trace_id"] for r in rows}) == 1
