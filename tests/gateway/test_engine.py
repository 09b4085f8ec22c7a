"""The gateway against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayError
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.db import Store, open_db
from tests.support.openai_server import OpenAICompatibleServer

SECRET = "sk-test-Zq8vKw2LmP0oRr7TtYy4Uu9Ii1"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "gw.db") as opened:
        yield opened


def _gateway(
    store: Store, server: OpenAICompatibleServer, models: dict[str, ModelOptions], **gateway: float
) -> Gateway:
    options = {
        name: replace(option, api_base=option.api_base or server.base_url)
        if name.startswith("openai/")
        else option
        for name, option in models.items()
    }
    settings = Settings(
        gateway=replace(GatewaySettings(), **gateway),
        model=options,  # type: ignore[arg-type]
    )
    return Gateway(AuditRecorder(store), settings, sleep=_no_sleep)


def _rows(store: Store, gateway: Gateway) -> list[dict]:
    gateway.recorder.flush()
    return list(store.read().query("SELECT * FROM calls ORDER BY id"))


async def test_a_call_is_answered_and_recorded_once(store: Store, server) -> None:
    model = "openai/" + server.scenario("plain", cached_tokens=3)
    gateway = _gateway(store, server, {model: ModelOptions()})
    result = await gateway.complete(
        model, MESSAGES, params={"api_key": SECRET}, tags={"feature": "faq", "tier": "free"}
    )
    assert result.text.startswith("Answer to: What is the capital")
    rows = _rows(store, gateway)
    assert len(rows) == 1
    row = rows[0]
    assert (row["status"], row["attempt"], row["feature"]) == ("ok", 1, "faq")
    assert row["cached_tokens"] == 3
    assert row["prompt_tokens"] == result.completion.usage.prompt_tokens > 0
    assert result.call_id == row["id"]
    assert '"tier": "free"' in row["tags"]


async def test_429_with_retry_after_is_retried_no_sooner(store: Store, server) -> None:
    model = "openai/" + server.scenario(
        "limited", fault="status", status=429, retry_after=2, fault_times=1
    )
    settings_models = {model: ModelOptions()}
    gateway = _gateway(store, server, settings_models)
    gateway._sleep = __import__("asyncio").sleep  # real waiting for this one
    started = time.monotonic()
    result = await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert time.monotonic() - started >= 2.0
    requests = server.requests_for(model.removeprefix("openai/"))
    assert len(requests) == 2 and requests[1].at - requests[0].at >= 2.0
    rows = _rows(store, gateway)
    assert [r["status"] for r in rows] == ["rate_limited", "ok"]
    assert rows[0]["prompt_tokens"] == 0  # usage is recorded once, on the answering attempt
    assert rows[1]["prompt_tokens"] == result.completion.usage.prompt_tokens
    assert len({r["request_id"] for r in rows}) == 1


async def test_a_long_retry_after_is_reported_not_waited_for(store: Store, server) -> None:
    model = "openai/" + server.scenario("patience", fault="status", status=429, retry_after=120)
    gateway = _gateway(store, server, {model: ModelOptions()}, retry_patience_s=5)
    with pytest.raises(GatewayError) as error:
        await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert len(error.value.attempts) == 1
    rows = _rows(store, gateway)
    assert len(rows) == 1 and "exceeds the patience of 5 s" in rows[0]["error"]


async def test_server_errors_fall_back_with_every_attempt_recorded(store: Store, server) -> None:
    model = "openai/" + server.scenario("broken", fault="status", status=500)
    gateway = _gateway(
        store, server, {model: ModelOptions(fallbacks=("llmbench/mock",))}, max_retries=2
    )
    result = await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert result.completion.model == "llmbench/mock"
    rows = _rows(store, gateway)
    assert [(r["model"], r["status"], r["error_kind"]) for r in rows] == [
        (model, "error", "server"),
        (model, "error", "server"),
        (model, "error", "server"),
        ("llmbench/mock", "ok", None),
    ]
    assert [r["attempt"] for r in rows] == [1, 2, 3, 4]
    assert all(r["model_requested"] == model for r in rows)


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("hang", "timeout", "timeout"),
        ("malformed", "error", "protocol"),
        ("drop", "error", "connection"),
    ],
)
async def test_faults_end_with_the_right_status(store: Store, server, fault, status, kind) -> None:
    model = "openai/" + server.scenario(f"fault-{fault}", fault=fault)
    gateway = _gateway(store, server, {model: ModelOptions(timeout_s=0.5)}, max_retries=1)
    with pytest.raises(GatewayError) as error:
        await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert error.value.failure.kind == kind
    rows = _rows(store, gateway)
    attempts = 1 if kind == "protocol" else 2  # an unreadable answer is not asked for again
    assert [(r["status"], r["error_kind"]) for r in rows] == [(status, kind)] * attempts


async def test_a_key_echoed_by_the_provider_never_reaches_disk(store: Store, server) -> None:
    model = "openai/" + server.scenario("leaky", fault="echo_auth")
    gateway = _gateway(store, server, {model: ModelOptions()})
    with pytest.raises(GatewayError) as error:
        await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert SECRET not in str(error.value)
    rows = _rows(store, gateway)
    assert rows[0]["error_kind"] == "auth" and "[REDACTED]" in rows[0]["error"]
    for path in (store.path, Path(f"{store.path}-wal")):
        if path.exists():
            assert SECRET.encode() not in path.read_bytes()


async def test_the_chain_verifies_after_mixed_outcomes(store: Store, server) -> None:
    flaky = "openai/" + server.scenario("flaky", fault="status", status=503, fault_times=1)
    gateway = _gateway(store, server, {flaky: ModelOptions()})
    for _ in range(3):
        await gateway.complete(flaky, MESSAGES, params={"api_key": SECRET})
    gateway.recorder.flush()
    report = verify_chain(store.read(), gateway.recorder.key)
    assert report.ok and report.checked == 4
    assert database_id(store.read())


async def test_unpriced_until_a_price_is_set_and_then_priced(store: Store, server) -> None:
    from click.testing import CliRunner

    from llmbench.cli import cli

    model = "openai/" + server.scenario("selfhosted")
    gateway = _gateway(store, server, {model: ModelOptions()})
    first = await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    assert first.completion.cost is None
    gateway.recorder.flush()
    listed = CliRunner().invoke(cli, ["prices", "list", "--db", str(store.path)])
    assert f"UNPRICED {model}" in listed.output
    result = CliRunner().invoke(
        cli, ["prices", "set", model, "--input", "2", "--output", "8", "--db", str(store.path)]
    )
    assert result.exit_code == 0, result.output
    gateway._overrides = None  # a running gateway rereads prices within PRICE_REFRESH_S
    second = await gateway.complete(model, MESSAGES, params={"api_key": SECRET})
    usage = second.completion.usage
    assert second.completion.cost == pytest.approx(
        (usage.prompt_tokens * 2 + usage.completion_tokens * 8) / 1_000_000
    )
    rows = _rows(store, gateway)
    assert rows[0]["cost"] is None and rows[1]["cost"] == pytest.approx(second.completion.cost)
    assert rows[1]["input_price"] == 2.0


async def test_the_cache_answers_a_repeated_request_and_records_the_saving(
    store: Store, server
) -> None:
    model = "llmbench/mock"
    gateway = _gateway(store, server, {})
    first = await gateway.complete(model, MESSAGES, params={"max_tokens": 40}, cache=True)
    gateway.recorder.flush()
    second = await gateway.complete(model, MESSAGES, params={"max_tokens": 40}, cache=True)
    other = await gateway.complete(model, MESSAGES, params={"max_tokens": 41}, cache=True)
    uncached = await gateway.complete(model, MESSAGES, params={"max_tokens": 40})
    assert second.text == first.text and second.completion.cost == 0.0
    rows = _rows(store, gateway)
    assert [r["status"] for r in rows] == ["ok", "cache_hit", "ok", "ok"]
    assert rows[1]["saving"] == pytest.approx(first.completion.cost) and rows[1]["cost"] == 0
    assert rows[1]["prompt_tokens"] == first.completion.usage.prompt_tokens
    assert other.completion.cost and uncached.completion.cost
    hits = store.read().execute("SELECT sum(hits) FROM cache").fetchone()[0]
    assert hits == 1


async def test_an_expired_cache_entry_is_not_used(store: Store, server) -> None:
    gateway = _gateway(store, server, {}, cache_ttl_s=0)
    await gateway.complete("llmbench/mock", MESSAGES, cache=True)
    gateway.recorder.flush()
    await gateway.complete("llmbench/mock", MESSAGES, cache=True)
    assert [r["status"] for r in _rows(store, gateway)] == ["ok", "ok"]


async def _collect(gateway: Gateway, model: str) -> tuple[list[str], object]:
    chunks: list[str] = []
    final = None
    async for piece in gateway.stream(model, MESSAGES, params={"api_key": SECRET}):
        if isinstance(piece, str):
            chunks.append(piece)
        else:
            final = piece
    return chunks, final


async def test_a_stream_is_retried_before_its_first_chunk_and_recorded(
    store: Store, server
) -> None:
    model = "openai/" + server.scenario("stream-flaky", fault="status", status=503, fault_times=1)
    gateway = _gateway(store, server, {model: ModelOptions()})
    chunks, final = await _collect(gateway, model)
    assert "".join(chunks) == final.text and final.text.startswith("Answer to:")
    rows = _rows(store, gateway)
    assert [(r["status"], r["error_kind"]) for r in rows] == [("error", "server"), ("ok", None)]
    assert rows[1]["ttft_ms"] is not None and rows[1]["ttft_ms"] <= rows[1]["latency_ms"]
    assert rows[1]["completion_tokens"] == final.completion.usage.completion_tokens > 0


async def test_a_stream_broken_after_text_is_recorded_and_not_restarted(
    store: Store, server
) -> None:
    model = "openai/" + server.scenario("stream-drop", fault="drop_stream")
    gateway = _gateway(store, server, {model: ModelOptions(fallbacks=("llmbench/mock",))})
    with pytest.raises(GatewayError) as error:
        await _collect(gateway, model)
    assert len(error.value.attempts) == 1
    rows = _rows(store, gateway)
    assert len(rows) == 1 and rows[0]["status"] == "error"
    assert len(server.requests_for(model.removeprefix("openai/"))) == 1


async def test_a_stream_closed_early_records_its_attempt_as_cancelled(store: Store, server) -> None:
    # First chunk at once, the rest over 0.4 s: closed after the first chunk.
    gateway = _gateway(store, server, {})
    slow = {"mock_latency_ms": 400, "mock_ttft_ms": 5}
    pieces = gateway.stream("llmbench/mock", MESSAGES, params=slow, tags={"user": "ann"})
    first = await anext(pieces)
    assert isinstance(first, str)
    await pieces.aclose()
    # aclose() waited for the attempt to end: its row is queued, a flush puts it on disk.
    [row] = _rows(store, gateway)
    assert (row["status"], row["error_kind"], row["user"]) == ("error", "cancelled", "ann")
    assert row["response"].startswith(first.strip()) and "after" in row["error"]
    assert row["completion_tokens"] > 0 and row["prompt_tokens"] > 0
    assert row["tokens_estimated"] == 1 and row["cost"] > 0 and row["latency_ms"] > 0
    assert verify_chain(store.read(), gateway.recorder.key).ok


async def test_a_cancelled_complete_records_its_attempt(store: Store, server) -> None:
    import asyncio

    gateway = _gateway(store, server, {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            gateway.complete("llmbench/mock", MESSAGES, params={"mock_latency_ms": 2000}), 0.2
        )
    [row] = _rows(store, gateway)
    assert (row["status"], row["error_kind"]) == ("error", "cancelled")
    assert row["error"] == "cancelled by the caller before an answer"
    assert row["response"] is None and row["completion_tokens"] == 0
    assert 150 <= row["latency_ms"] < 2000
