"""Anthropic's 429 (rate_limit_error) and 529 (overloaded_error), answered by the loopback
server with the reference's JSON error bodies (tests/data/wire/anthropic/error_*.json) and a
retry-after header: each failed attempt is recorded with the provider's message, retried per the
gateway's policy (backoff never sooner than Retry-After; not retried past the patience), and the
request, or the evaluation run, goes on. Verified by reading the rows from the SQLite file."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.models import Variable
from llmbench.gateway.engine import Gateway
from llmbench.gateway.outcomes import GatewayError, GatewayResult
from llmbench.gateway.recorder import AuditRecorder
from llmbench.services.evaluation.engine import EvalPlan, run_cells, run_eval
from llmbench.store import datasets
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store
from llmbench.store.prompts import versions as prompts_repo
from tests.support.anthropic_server import AnthropicServer, reference

MODEL = "anthropic/claude-sonnet-4-5-20250929"
ASK = [{"role": "user", "content": "Hello, Claude"}]
# status: (the row's status, its error_kind, the reference error's type and message)
EXPECTED = {
    429: ("rate_limited", "rate_limited", "rate_limit_error", "Your account has hit a rate limit."),
    529: ("error", "server", "overloaded_error", "Overloaded"),
}


class Sleeps:
    """The gateway's sleep between attempts, noted instead of waited: the delays are what the
    policy chose."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _gateway(store: Store, sleeps: Sleeps, **gateway: Any) -> Gateway:
    settings = Settings(gateway=replace(GatewaySettings(), max_retries=2, **gateway))
    return Gateway(AuditRecorder(store), settings, sleep=sleeps)


def _rows(gateway: Gateway) -> list[dict[str, Any]]:
    gateway.recorder.flush()
    return list(gateway.recorder.store.read().query("SELECT * FROM calls ORDER BY id"))


async def _call(gateway: Gateway, base: str, streamed: bool) -> GatewayResult:
    if not streamed:
        return await gateway.complete(MODEL, ASK, params={"api_base": base})
    final = None
    async for piece in gateway.stream(MODEL, ASK, params={"api_base": base}):
        if isinstance(piece, GatewayResult):
            final = piece
    assert final is not None
    return final


def _assert_failed_row(row: dict[str, Any], status: int) -> None:
    call_status, kind, error_type, message = EXPECTED[status]
    body = reference(f"error_{status}")["error"]
    assert (body["type"], body["message"]) == (error_type, message)
    assert (row["status"], row["error_kind"]) == (call_status, kind)
    assert error_type in row["error"] and message in row["error"]
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost"]) == (0, 0, None)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("status", [429, 529])
async def test_a_rate_limit_or_overload_is_recorded_then_retried(
    anthropic_server: AnthropicServer, anthropic_store: Store, status: int, streamed: bool
) -> None:
    name = f"retry-{status}-{streamed}"
    base = anthropic_server.scenario(name, errors=(status,), retry_after=2)
    sleeps = Sleeps()
    gateway = _gateway(anthropic_store, sleeps)
    result = await _call(gateway, base, streamed)
    assert result.completion.text in ("Hi! My name is Claude.", "Hello!")
    assert [attempt.status for attempt in result.attempts] == [EXPECTED[status][0], "ok"]
    # Full-jitter backoff, never sooner than the provider's retry-after.
    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 2.0
    failed, answered = _rows(gateway)
    _assert_failed_row(failed, status)
    assert failed["request_id"] == answered["request_id"] == result.request_id
    assert (failed["attempt"], answered["attempt"], answered["status"]) == (1, 2, "ok")
    assert answered["prompt_tokens"] > 0 and answered["cost"] > 0
    assert len(anthropic_server.requests_for(name)) == 2
    assert verify_chain(anthropic_store.read(), gateway.recorder.key).ok


async def test_an_overload_that_persists_fails_the_request_and_the_next_one_goes_on(
    anthropic_server: AnthropicServer, anthropic_store: Store
) -> None:
    base = anthropic_server.scenario("overloaded", errors=(529, 529, 529))
    sleeps = Sleeps()
    gateway = _gateway(anthropic_store, sleeps)
    with pytest.raises(GatewayError) as raised:
        await gateway.complete(MODEL, ASK, params={"api_base": base})
    failure = raised.value.failure
    # litellm reports the 529 as a 500; the provider's status is the one kept.
    assert (failure.kind, failure.status_code, failure.retryable) == ("server", 529, True)
    assert len(raised.value.attempts) == 3 and len(sleeps.delays) == 2
    # No retry-after: the backoff's jitter alone, within its growing caps.
    assert 0 <= sleeps.delays[0] <= 0.5 and 0 <= sleeps.delays[1] <= 1.0
    answered = await gateway.complete(MODEL, ASK, params={"api_base": base})
    assert answered.completion.text == "Hi! My name is Claude."
    rows = _rows(gateway)
    for row in rows[:3]:
        _assert_failed_row(row, 529)
        assert row["request_id"] == raised.value.request_id
    assert [row["attempt"] for row in rows] == [1, 2, 3, 1]
    assert (rows[3]["status"], rows[3]["prompt_tokens"], rows[3]["completion_tokens"]) == (
        "ok",
        2095,
        503,
    )
    assert verify_chain(anthropic_store.read(), gateway.recorder.key).ok


async def test_a_retry_after_beyond_the_patience_is_not_waited_for(
    anthropic_server: AnthropicServer, anthropic_store: Store
) -> None:
    base = anthropic_server.scenario("patience", errors=(429,), retry_after=120)
    sleeps = Sleeps()
    gateway = _gateway(anthropic_store, sleeps, retry_patience_s=30.0)
    with pytest.raises(GatewayError) as raised:
        await gateway.complete(MODEL, ASK, params={"api_base": base})
    assert raised.value.failure.retry_after_s == 120.0 and sleeps.delays == []
    (row,) = _rows(gateway)
    _assert_failed_row(row, 429)
    assert "Retry-After 120 s exceeds the patience of 30 s: not retried" in row["error"]


async def test_an_overloaded_error_event_in_a_stream_before_any_text_is_retried(
    anthropic_server: AnthropicServer, anthropic_store: Store
) -> None:
    # A 200 whose stream breaks off after message_start with an `error` event.
    base = anthropic_server.scenario("stream-overloaded", stream_errors=1)
    sleeps = Sleeps()
    gateway = _gateway(anthropic_store, sleeps)
    result = await _call(gateway, base, streamed=True)
    assert result.completion.text == "Hello!"
    assert [attempt.status for attempt in result.attempts] == ["error", "ok"]
    failed, answered = _rows(gateway)
    assert (failed["status"], failed["error_kind"]) == ("error", "server")
    assert "Overloaded" in failed["error"] and failed["response"] is None
    assert (answered["status"], answered["attempt"], answered["completion_tokens"]) == ("ok", 2, 15)
    assert len(sleeps.delays) == 1


async def test_a_not_found_error_is_not_retried(
    anthropic_server: AnthropicServer, anthropic_store: Store
) -> None:
    # An api_base naming no scenario: the server answers 404 not_found_error in the
    # reference's shape, which no retry can fix.
    base = f"{anthropic_server.base_url}/s/no-such-scenario"
    sleeps = Sleeps()
    gateway = _gateway(anthropic_store, sleeps)
    with pytest.raises(GatewayError) as raised:
        await gateway.complete(MODEL, ASK, params={"api_base": base})
    assert (raised.value.failure.kind, raised.value.failure.status_code) == ("bad_request", 404)
    assert sleeps.delays == []
    (row,) = _rows(gateway)
    assert (row["status"], row["error_kind"]) == ("error", "bad_request")
    assert "not_found_error" in row["error"]


def _seed(store: Store, cases: int) -> tuple[int, list[int]]:
    def job(db: Any) -> tuple[int, list[int]]:
        prompt = prompts_repo.create_prompt(db, "greeting")
        version = prompts_repo.add_version(
            db, prompt, {"task": "Say hello to {{ name }}"}, variables=[Variable("name")]
        )
        dataset = datasets.create_dataset(db, "names")
        names = ("Ada", "Grace", "Linus")[:cases]
        case_ids = datasets.add_cases(db, dataset, [datasets.NewCase({"name": n}) for n in names])
        return version, case_ids

    return store.write(job)


def test_an_evaluation_run_goes_on_through_rate_limits_and_overloads(
    anthropic_server: AnthropicServer, anthropic_store: Store
) -> None:
    flaky = anthropic_server.scenario("eval-flaky", errors=(429, 529), retry_after=0)
    down = anthropic_server.scenario("eval-down", errors=(529,) * 9)
    other = "anthropic/claude-sonnet-4-5"  # a second name of the same priced model
    settings = Settings(
        gateway=replace(GatewaySettings(), max_retries=2),
        model={MODEL: ModelOptions(api_base=flaky), other: ModelOptions(api_base=down)},
    )
    version, cases = _seed(anthropic_store, 3)
    plan = EvalPlan(
        name="greetings",
        version_ids=(version,),
        case_ids=tuple(cases),
        models=(MODEL, other),
        checks=({"type": "icontains", "value": "Claude"},),
        concurrency=1,
    )
    summary = run_eval(anthropic_store, settings, plan)
    assert (summary.status, summary.total, summary.finished, summary.errors) == ("done", 6, 6, 3)
    cells = run_cells(anthropic_store, summary.run_id)
    assert all(cell.ok and cell.succeeded for cell in cells if cell.model == MODEL)
    assert all(not cell.ok and "server" in cell.output for cell in cells if cell.model == other)
    rows = list(
        anthropic_store.read().query(
            "SELECT model_requested, status, error_kind, error FROM calls WHERE run_id = ?"
            " ORDER BY id",
            [summary.run_id],
        )
    )
    flaky_rows = [row for row in rows if row["model_requested"] == MODEL]
    assert [(row["status"], row["error_kind"]) for row in flaky_rows] == [
        ("rate_limited", "rate_limited"),
        ("error", "server"),
        ("ok", None),
        ("ok", None),
        ("ok", None),
    ]
    down_rows = [row for row in rows if row["model_requested"] == other]
    assert len(down_rows) == 9  # three cells, each with its three attempts
    assert all("overloaded_error" in json.dumps(row["error"]) for row in down_rows)
