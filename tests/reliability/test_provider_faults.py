"""Scenario 6 — provider faults during a run.

What it proves: an evaluation run against the loopback OpenAI-compatible server
(tests/support/openai_server.py, reached by litellm over real HTTP) whose models misbehave —
a 429 storm with a short Retry-After (retried, still failing), 429s whose Retry-After exceeds the
gateway's patience (reported, not waited on), 500s, timeouts, malformed JSON bodies, connections
dropped before an answer, and, for a run whose cells stream (the live view of F3), streams dropped
midway — completes: every cell has a result, the healthy model's
cells pass, each failing cell is an error cell linked to its audit row, and every attempt is an
audit row with the right status (rate_limited, timeout, error) and error kind.

A fault in the run itself is covered too: when the live view's watcher raises mid-run, the run
stops with that error and is marked failed — it must not hang. (It did: the cells' torn-down
tasks cancelled their queued writes, and the store's writer thread died setting a result on a
cancelled future, so every later write, the run's own `finish` included, waited forever. Fixed
in store/db.py: a cancelled job is skipped.)

Runtime: ~3 s (timeouts are 0.3 s; every cell runs at once).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, ModelOptions, Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.services.evaluation.cells import Cell, CellOutcome
from llmbench.services.evaluation.engine import EvalPlan, create_eval_run, resume
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo
from tests.support.openai_server import OpenAICompatibleServer, running_server

CASES = 3
TIMEOUT_S = 0.3  # the slow scenario's; the others get a loaded machine's patience
PATIENT_TIMEOUT_S = 10.0
RETRIES = 1


@dataclass(frozen=True)
class Fault:
    """What one scenario model does, and what the audit log must say about each attempt."""

    name: str
    server: dict[str, Any]
    status: str  # the calls' status
    kind: str | None  # the calls' error_kind
    attempts: int  # per cell


FAULTS = (
    Fault("healthy", {}, "ok", None, 1),
    Fault("storm-429", {"fault": "status", "status": 429, "retry_after": 0.05}, "rate_limited",
          "rate_limited", 1 + RETRIES),
    Fault("patience-429", {"fault": "status", "status": 429, "retry_after": 120}, "rate_limited",
          "rate_limited", 1),
    Fault("server-500", {"fault": "status", "status": 500}, "error", "server", 1 + RETRIES),
    Fault("slow", {"latency_ms": 1500}, "timeout", "timeout", 1 + RETRIES),
    Fault("malformed", {"fault": "malformed"}, "error", "protocol", 1),
    Fault("dropped", {"fault": "drop"}, "error", "connection", 1 + RETRIES),
)  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    yield from running_server()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback-0123456789")
    with open_db(tmp_path / "faults.db") as opened:
        yield opened
    shutdown_sync()


def _models(server: OpenAICompatibleServer, prefix: str, faults: tuple[Fault, ...]) -> list[str]:
    return ["openai/" + server.scenario(f"{prefix}-{f.name}", **f.server) for f in faults]


def _settings(server: OpenAICompatibleServer, models: list[str]) -> Settings:
    return Settings(
        gateway=GatewaySettings(max_retries=RETRIES, retry_patience_s=5.0),
        model={
            m: ModelOptions(
                api_base=server.base_url,
                timeout_s=TIMEOUT_S if m.endswith("-slow") else PATIENT_TIMEOUT_S,
            )
            for m in models
        },
    )


def _run(store: Store, models: list[str]) -> int:
    def seed(db: Any) -> tuple[int, list[int]]:
        prompt = prompts_repo.create_prompt(db, "faults")
        version = prompts_repo.add_version(
            db,
            prompt,
            {"task": "Answer the ticket about {{ topic }} in a few words."},
            variables=[Variable("topic")],
        )
        dataset = datasets.create_dataset(db, "topics")
        cases = datasets.add_cases(
            db, dataset, [datasets.NewCase({"topic": f"topic {n}"}) for n in range(CASES)]
        )
        return version, cases

    version, cases = store.write(seed)
    plan = EvalPlan(
        name="faults",
        version_ids=(version,),
        case_ids=tuple(cases),
        models=tuple(models),
        checks=({"type": "contains", "value": "topic"},),
        concurrency=len(models) * CASES,
    )
    return create_eval_run(store, plan)


def _check_audit(store: Store, run_id: int, models: list[str], faults: tuple[Fault, ...]) -> None:
    db = store.read()
    for model, fault in zip(models, faults, strict=True):
        rows = db.execute(
            "SELECT status, error_kind, error, request_id FROM calls"
            " WHERE run_id = ? AND model_requested = ?",
            [run_id, model],
        ).fetchall()
        assert len(rows) == CASES * fault.attempts, (fault.name, rows)
        assert {(row[0], row[1]) for row in rows} == {(fault.status, fault.kind)}, fault.name
        assert len({row[3] for row in rows}) == CASES  # one request per cell, its attempts
        if fault.status != "ok":
            assert all(row[2] for row in rows), fault.name  # every failure says what happened
        if fault.name == "patience-429":
            assert all("exceeds the patience" in row[2] for row in rows)
        cells = db.execute(
            "SELECT r.status, c.status FROM results r JOIN calls c ON c.id = r.call_id"
            " WHERE r.run_id = ? AND r.model = ?",
            [run_id, model],
        ).fetchall()
        # Every cell links to an audit row of its request (its last attempt's status).
        expected = "ok" if fault.status == "ok" else "error"
        assert cells == [(expected, fault.status)] * CASES, (fault.name, cells)


def test_a_run_through_provider_faults_completes_with_every_failure_recorded(
    store: Store, server: OpenAICompatibleServer
) -> None:
    models = _models(server, "run", FAULTS)
    run_id = _run(store, models)
    summary = resume(store, _settings(server, models), run_id)
    total = len(FAULTS) * CASES
    assert (summary.status, summary.total, summary.finished) == ("done", total, total)
    assert summary.errors == (len(FAULTS) - 1) * CASES
    _check_audit(store, run_id, models, FAULTS)
    status = store.read().execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
    assert status[0] == "done"


class Recorder:
    """A CellWatcher that keeps what it saw (it runs on the gateway's loop: record only)."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[str]] = {}
        self.outcomes: list[CellOutcome] = []

    def streams(self, cell: Cell) -> bool:
        return True  # every answer streams, so dropped streams are exercised

    def started(self, cell: Cell) -> None:
        self.chunks.setdefault(cell.model, [])

    def chunk(self, cell: Cell, text: str) -> None:
        self.chunks[cell.model].append(text)

    def finished(self, outcome: CellOutcome) -> None:
        self.outcomes.append(outcome)


STREAM_FAULTS = (
    Fault("healthy", {}, "ok", None, 1),
    Fault("dropped-stream", {"fault": "drop_stream", "reply": "one two three four five six"},
          "error", "connection", 1),
    Fault("server-500", {"fault": "status", "status": 500}, "error", "server", 1 + RETRIES),
)  # fmt: skip


def test_a_streamed_run_through_dropped_streams_completes(
    store: Store, server: OpenAICompatibleServer
) -> None:
    models = _models(server, "live", STREAM_FAULTS)
    run_id = _run(store, models)
    watcher = Recorder()
    summary = resume(store, _settings(server, models), run_id, watcher=watcher)
    total = len(STREAM_FAULTS) * CASES
    assert (summary.status, summary.finished, summary.errors) == ("done", total, 2 * CASES)
    assert len(watcher.outcomes) == total
    dropped = models[1]
    # Text had arrived before the drop: the cell saw part of the answer, then the failure.
    assert watcher.chunks[dropped] and "six" not in "".join(watcher.chunks[dropped])
    _check_audit(store, run_id, models, STREAM_FAULTS)
    assert (
        json.loads(
            store.read()
            .execute("SELECT tags FROM calls WHERE model_requested = ? LIMIT 1", [models[0]])
            .fetchone()[0]
        )["run"]
        == "eval"
    )


class BrokenView(Recorder):
    """A live view with a bug: it raises on the third cell that finishes."""

    def finished(self, outcome: CellOutcome) -> None:
        super().finished(outcome)
        if len(self.outcomes) == 3:
            raise RuntimeError("the view broke")


def test_a_run_whose_view_raises_fails_cleanly_instead_of_hanging(
    store: Store, server: OpenAICompatibleServer
) -> None:
    faults = (FAULTS[0], FAULTS[3])
    models = _models(server, "broken-view", faults)
    run_id = _run(store, models)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            resume(store, _settings(server, models), run_id, watcher=BrokenView())
        except BaseException as error:
            raised.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung after its view raised"
    assert [str(error) for error in raised] == ["the view broke"]
    db = store.read()
    assert db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()[0] == "failed"
    # The store still takes writes, and the kept cells each link to their audit row.
    assert store.write(lambda db: db.execute("SELECT 1").fetchone()[0]) == 1
    orphans = db.execute(
        "SELECT count(*) FROM results WHERE run_id = ? AND call_id IS NULL", [run_id]
    ).fetchone()[0]
    assert orphans == 0
