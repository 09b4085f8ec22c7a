"""The evaluation engine: versions × models × cases through the real gateway, on the built-in
models and on the loopback OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.services.evaluation.engine import (
    EvalError,
    EvalPlan,
    compare_groups,
    create_eval_run,
    resume,
    run_cells,
    run_eval,
    scoreboard,
)
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.prompts import versions as prompts_repo
from tests.support.openai_server import OpenAICompatibleServer, running_server

SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
TICKETS = (
    "My parcel never arrived",
    "I was charged twice",
    "How do I reset my password",
    "The app crashes on start",
    "Please cancel my order",
)
VERDICT = json.dumps({"rubric": {"score": 4, "reason": "polite and on topic"}})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "eval.db") as opened:
        yield opened
    shutdown_sync()


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    yield from running_server()


def _seed(store: Store, cases: int = 5) -> tuple[list[int], list[int]]:
    """Two versions of a support prompt and a dataset of `cases` tickets."""

    def job(db: Any) -> tuple[list[int], list[int]]:
        prompt = prompts_repo.create_prompt(db, "support-reply")
        variables = [Variable("ticket", "untrusted")]
        first = prompts_repo.add_version(
            db, prompt, {"task": "Ticket: {{ ticket }}"}, variables=variables
        )
        second = prompts_repo.add_version(
            db,
            prompt,
            {"role": "You answer support tickets kindly.", "task": "Ticket: {{ ticket }}"},
            variables=variables,
        )
        dataset = datasets.create_dataset(db, "tickets")
        case_ids = datasets.add_cases(
            db,
            dataset,
            [
                datasets.NewCase({"ticket": TICKETS[i % 5]}, expected=TICKETS[i % 5].split()[-1])
                for i in range(cases)
            ],
        )
        return [first, second], case_ids

    return store.write(job)


def _plan(versions: list[int], cases: list[int], **changes: Any) -> EvalPlan:
    plan = EvalPlan(
        name="support",
        version_ids=tuple(versions),
        case_ids=tuple(cases),
        models=("llmbench/echo", "llmbench/mock"),
        checks=({"type": "icontains", "value": "{{ ticket }}"},),
    )
    return replace(plan, **changes)


def _calls(store: Store, run_id: int) -> list[dict[str, Any]]:
    return list(store.read().query("SELECT * FROM calls WHERE run_id = ?", [run_id]))


def test_two_versions_by_two_models_by_five_cases(store: Store) -> None:
    versions, cases = _seed(store)
    seen: list[tuple[int, int]] = []
    summary = run_eval(
        store, SETTINGS, _plan(versions, cases), progress=lambda d, t: seen.append((d, t))
    )
    assert (summary.status, summary.total, summary.finished, summary.ran, summary.errors) == (
        "done",
        20,
        20,
        20,
        0,
    )
    assert sorted(seen) == [(done, 20) for done in range(1, 21)]
    cells = run_cells(store, summary.run_id)
    assert len(cells) == 20
    assert {(c.version_label, c.model) for c in cells} == {
        (f"support-reply@{n}", m) for n in (1, 2) for m in ("llmbench/echo", "llmbench/mock")
    }
    # Echo repeats the prompt, ticket included: its cells pass; every cell was checked.
    assert all(c.succeeded for c in cells if c.model == "llmbench/echo")
    assert all(c.passed is not None for c in cells)
    checks = (
        store.read()
        .execute(
            "SELECT count(*) FROM checks WHERE passed IS NOT NULL"
            " AND result_id IN (SELECT id FROM results WHERE run_id = ?)",
            [summary.run_id],
        )
        .fetchone()[0]
    )
    assert checks == 20  # beside them, each cell's similarity to its expected answer
    # Every cell links to its audit row, which carries the run and the version.
    calls = {row["id"]: row for row in _calls(store, summary.run_id)}
    assert len(calls) == 20
    linked = store.read().execute(
        "SELECT call_id, version_id FROM results WHERE run_id = ?", [summary.run_id]
    )
    for call_id, version_id in linked:
        assert calls[call_id]["prompt_version_id"] == version_id
    board = scoreboard(store, summary.run_id)
    assert [(g.version_label, g.model, g.cells) for g in board] == [
        ("support-reply@1", "llmbench/echo", 5),
        ("support-reply@1", "llmbench/mock", 5),
        ("support-reply@2", "llmbench/echo", 5),
        ("support-reply@2", "llmbench/mock", 5),
    ]
    assert board[0].pass_rate == 1.0 and board[0].latency_p50_ms is not None
    report = compare_groups(
        store, summary.run_id, (versions[0], "llmbench/echo"), (versions[1], "llmbench/echo")
    )
    assert report.paired_cases == 5 and report.regressions == ()
    assert runs.get_run(store.read(), summary.run_id).status == "done"


def test_cancel_keeps_finished_cells_and_resume_runs_only_the_missing(store: Store) -> None:
    versions, cases = _seed(store)
    plan = _plan(versions, cases, concurrency=1)
    stop = {"now": False}

    def progress(done: int, total: int) -> None:
        stop["now"] = done >= 3

    first = run_eval(store, SETTINGS, plan, progress=progress, cancelled=lambda: stop["now"])
    # One cell at a time: the cancel asked for as the third came in stops the fourth.
    assert (first.status, first.ran, first.finished, first.total) == ("cancelled", 3, 3, 20)
    assert runs.get_run(store.read(), first.run_id).status == "cancelled"
    kept = {(c.version_id, c.model, c.case_id) for c in run_cells(store, first.run_id)}

    second = resume(store, SETTINGS, first.run_id)
    assert (second.status, second.ran, second.finished) == ("done", 17, 20)
    cells = run_cells(store, first.run_id)
    assert len({(c.version_id, c.model, c.case_id, c.repeat) for c in cells}) == 20
    assert kept <= {(c.version_id, c.model, c.case_id) for c in cells}
    # One call per cell in all: the resumed run never re-ran a finished cell.
    assert len(_calls(store, first.run_id)) == 20
    third = resume(store, SETTINGS, first.run_id)
    assert (third.ran, third.finished, third.status) == (0, 20, "done")


def test_repeats_make_separate_cells(store: Store) -> None:
    versions, cases = _seed(store, cases=2)
    summary = run_eval(
        store, SETTINGS, _plan(versions[:1], cases, models=("llmbench/echo",), repeats=3)
    )
    assert summary.total == 6
    assert sorted((c.case_id, c.repeat) for c in run_cells(store, summary.run_id)) == [
        (case, repeat) for case in cases for repeat in range(3)
    ]


def test_a_bad_plan_is_refused_before_any_run(store: Store) -> None:
    versions, cases = _seed(store, cases=1)
    with pytest.raises(EvalError, match="no case with id 999"):
        create_eval_run(store, _plan(versions, [999]))
    with pytest.raises(EvalError, match="check 'nonsense'"):
        create_eval_run(store, _plan(versions, cases, checks=({"type": "nonsense"},)))
    with pytest.raises(EvalError, match="api_key"):
        create_eval_run(store, _plan(versions, cases, params={"api_key": "sk-secret"}))
    with pytest.raises(EvalError, match="no run with id 42"):
        resume(store, SETTINGS, 42)
    assert store.read().execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def _loopback(
    server: OpenAICompatibleServer, *models: str, timeout_s: float = 0.0, short: str = ""
) -> Settings:
    """`timeout_s` applies to the `short` model only when one is named (the others get a loaded
    machine's patience), else to every model."""
    options = {
        model: ModelOptions(
            api_base=server.base_url,
            timeout_s=timeout_s if not short or model == short else 10.0,
        )
        for model in models
    }
    return Settings(
        gateway=GatewaySettings(max_retries=0),
        model=options,  # type: ignore[arg-type]
    )


def test_loopback_server_failures_become_error_cells(
    store: Store, server: OpenAICompatibleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    fine = "openai/" + server.scenario("eval-fine")
    broken = "openai/" + server.scenario("eval-500", fault="status", status=500)
    # Slower than the timeout, but not hung: the server's handlers end before it is stopped.
    stuck = "openai/" + server.scenario("eval-slow", latency_ms=1500)
    settings = _loopback(server, fine, broken, stuck, timeout_s=0.5, short=stuck)
    versions, cases = _seed(store)
    plan = _plan(versions, cases, models=(fine, broken, stuck), concurrency=30)
    summary = run_eval(store, settings, plan)
    assert (summary.status, summary.total, summary.finished, summary.errors) == (
        "done",
        30,
        30,
        20,
    )
    cells = run_cells(store, summary.run_id)
    by_model = {model: [c for c in cells if c.model == model] for model in (fine, broken, stuck)}
    assert all(c.ok and c.succeeded for c in by_model[fine])
    assert all(not c.ok and "server" in c.output for c in by_model[broken])
    assert all(not c.ok and "timeout" in c.output for c in by_model[stuck])
    statuses = {(row["model_requested"], row["status"]) for row in _calls(store, summary.run_id)}
    assert statuses == {(fine, "ok"), (broken, "error"), (stuck, "timeout")}
    board = scoreboard(store, summary.run_id)
    assert len(board) == 6
    for group in board:
        expected = (0, 1.0) if group.model == fine else (5, 0.0)
        assert (group.errors, group.pass_rate) == expected


def test_a_judge_check_is_graded_by_the_judge_model_with_one_repair(
    store: Store, server: OpenAICompatibleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    judge = "openai/" + server.scenario(
        "eval-judge-repair", replies=("I think it is fine!", VERDICT)
    )
    versions, cases = _seed(store, cases=1)
    plan = _plan(
        versions[:1],
        cases,
        models=("llmbench/echo",),
        checks=({"type": "llm-rubric", "value": "Polite and answers the question"},),
        judge_model=judge,
    )
    summary = run_eval(store, _loopback(server, judge), plan)
    (cell,) = run_cells(store, summary.run_id)
    assert cell.succeeded and cell.judge_score == pytest.approx(0.75)
    detail = store.read().execute("SELECT kind, detail FROM checks").fetchone()
    assert detail == ("judge", "rubric 4/5: polite and on topic")
    requests = server.requests_for(judge.removeprefix("openai/"))
    assert len(requests) == 2
    repair = requests[1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": "I think it is fine!"}
    judged = [row for row in _calls(store, summary.run_id) if row["model"] != "llmbench/echo"]
    assert len(judged) == 2  # the judge's calls are audited with the run too


def test_a_judge_that_never_answers_in_json_fails_the_check(
    store: Store, server: OpenAICompatibleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    judge = "openai/" + server.scenario("eval-judge-junk", reply="no idea")
    versions, cases = _seed(store, cases=1)
    plan = _plan(
        versions[:1],
        cases,
        models=("llmbench/echo",),
        checks=({"type": "llm-rubric", "value": "Polite"}, {"type": "contains", "value": "Ticket"}),
        judge_model=judge,
    )
    summary = run_eval(store, _loopback(server, judge), plan)
    (cell,) = run_cells(store, summary.run_id)
    assert cell.ok and cell.passed is False
    assert any("unreadable verdict after one repair" in f for f in cell.failures)
    assert len(server.requests_for(judge.removeprefix("openai/"))) == 2
