"""Sending the editor's draft to Compare: a real run against the built-in offline models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from llmbench.config import GatewaySettings, Settings
from llmbench.core.evaluation.scoreboard import GroupStats
from llmbench.core.models import Variable
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.client import shutdown_sync
from llmbench.services.compare.draft_run import DraftCompareError, compare_draft
from llmbench.services.compare.report import in_picked_order
from llmbench.services.prompts.library import Draft
from llmbench.store import datasets, views
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.prompts import versions as prompts_repo

# No retries: a simulated server error fails its cell at once instead of backing off.
SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
TICKETS = ("My parcel never arrived", "I was charged twice", "How do I reset my password?")


@dataclass(frozen=True)
class Seeded:
    prompt_id: int
    baseline_id: int
    case_ids: list[int]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "compare.db") as opened:
        yield opened
    shutdown_sync()


def _seed(store: Store, *, params: dict[str, object] | None = None, cases: int = 3) -> Seeded:
    def job(db) -> Seeded:
        prompt_id = prompts_repo.create_prompt(db, "support-reply")
        first = prompts_repo.add_version(
            db,
            prompt_id,
            {"role": "You answer support tickets.", "task": "Ticket: {{ ticket }}"},
            variables=[Variable("ticket", "untrusted")],
            model="llmbench/echo",
            params=params or {},
        )
        prompts_repo.set_label(db, prompt_id, "production", first, moved_by="test")
        dataset = datasets.create_dataset(db, "tickets")
        ids = datasets.add_cases(
            db, dataset, [datasets.NewCase({"ticket": TICKETS[i % 3]}) for i in range(cases)]
        )
        return Seeded(prompt_id, first, ids)

    return store.write(job)


BASE_DRAFT = Draft(
    sections={"role": "You answer support tickets kindly.", "task": "Ticket: {{ ticket }}"},
    variables=(Variable("ticket", "untrusted"),),
    model="llmbench/echo",
)


def _draft(**changes: object) -> Draft:
    return replace(BASE_DRAFT, **changes)


def _cases(seeded: Seeded) -> list[tuple[int | None, dict[str, object]]]:
    return [(case_id, {"ticket": TICKETS[i % 3]}) for i, case_id in enumerate(seeded.case_ids)]


def _results(store: Store, run_id: int) -> list[tuple]:
    return (
        store.read()
        .execute(
            "SELECT r.version_id, r.case_id, r.status, r.output, r.call_id, c.prompt_version_id,"
            " c.run_id, c.tags, c.request_id, r.model"
            " FROM results r LEFT JOIN calls c ON c.id = r.call_id"
            " WHERE r.run_id = ? ORDER BY r.case_id, r.version_id IS NULL",
            [run_id],
        )
        .fetchall()
    )


def test_the_draft_and_production_run_over_three_cases(store: Store) -> None:
    seeded = _seed(store)
    seen: list[tuple[int, int]] = []
    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(),
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (comparison.status, comparison.cells, comparison.total, comparison.errors) == (
        "done",
        6,
        6,
        0,
    )
    assert seen == [(done, 6) for done in range(1, 7)]
    rows = _results(store, comparison.run_id)
    assert len(rows) == 6
    call_ids = {row[4] for row in rows}
    assert None not in call_ids and len(call_ids) == 6
    for case_id, (baseline, draft) in zip(
        seeded.case_ids, zip(rows[::2], rows[1::2], strict=True), strict=True
    ):
        # Baseline cells carry the version, in the result and in the audit row; the draft none.
        assert (baseline[0], baseline[1], baseline[5]) == (seeded.baseline_id, case_id, 1)
        assert (draft[0], draft[1], draft[5]) == (None, case_id, None)
        for row in (baseline, draft):
            assert row[2] == "ok" and row[6] == comparison.run_id and row[9] == "llmbench/echo"
            assert json.loads(row[7])["run"] == "draft-compare"
        # The echo model answers with the prompt: the draft's changed role shows in its output.
        assert "You answer support tickets.\n" in baseline[3] and "kindly" not in baseline[3]
        assert "You answer support tickets kindly." in draft[3]
        assert baseline[3] != draft[3]
        assert "<user_input>" in draft[3]  # rendered with the fences, like any real call
    run = runs.get_run(store.read(), comparison.run_id)
    assert run is not None and (run.kind, run.status, run.name) == (
        "compare",
        "done",
        "support-reply: draft vs v1",
    )
    assert run.finished_at is not None
    (row,) = [r for r in views.run_rows(store.read()) if r.id == comparison.run_id]
    assert row.cells == 6 and row.models == ("llmbench/echo",)
    config = json.loads(
        store.read().execute("SELECT config FROM runs WHERE id = ?", [run.id]).fetchone()[0]
    )
    assert config["baseline_version_id"] == seeded.baseline_id
    assert config["draft"]["sections"]["role"] == "You answer support tickets kindly."
    assert config["draft"]["variables"] == [{"name": "ticket", "kind": "untrusted"}]
    assert config["models"] == ["llmbench/echo"]
    assert [case["case_id"] for case in config["cases"]] == seeded.case_ids
    for side in (comparison.baseline, comparison.draft):
        assert side.cells == 3 and side.errors == 0 and side.prompt_tokens > 0
        assert side.mean_latency_ms is not None and side.completion_tokens > 0
    assert comparison.draft.completion_tokens > comparison.baseline.completion_tokens
    assert "support-reply: draft vs v1: 6/6 cells" in comparison.summary_line()
    # Every call was written, sealed on the audit chain, before compare_draft returned.
    assert verify_chain(store.read(), load_chain_key(database_id(store.read()))).ok


def test_a_failing_model_records_error_cells_and_the_run_finishes(store: Store) -> None:
    seeded = _seed(store)
    failing = _draft(model="llmbench/mock", params={"mock_fail": "server"})
    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        failing,
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
    )
    assert (comparison.status, comparison.cells, comparison.errors) == ("done", 6, 3)
    assert comparison.draft.errors == 3 and comparison.draft.mean_latency_ms is None
    assert comparison.baseline.errors == 0
    rows = _results(store, comparison.run_id)
    draft_rows = [row for row in rows if row[0] is None]
    assert len(draft_rows) == 3
    for row in draft_rows:
        # The draft's own model is the default; the error is kept with its audit row.
        assert row[9] == "llmbench/mock" and row[2] == "error"
        assert "server" in row[3].lower() and row[4] is not None
        status = store.read().execute("SELECT status FROM calls WHERE id = ?", [row[4]]).fetchone()
        assert status[0] == "error"
    assert all(row[2] == "ok" for row in rows if row[0] is not None)
    run = runs.get_run(store.read(), comparison.run_id)
    assert run is not None and run.status == "done"


def test_cancelling_midway_keeps_the_finished_cells(store: Store) -> None:
    seeded = _seed(store, cases=8)
    stop = False

    def on_progress(done: int, total: int) -> None:
        nonlocal stop
        stop = True  # the user pressed escape as the first cell came in

    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(),
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
        progress=on_progress,
        cancelled=lambda: stop,
    )
    assert comparison.status == "cancelled" and comparison.total == 16
    assert 0 < comparison.cells < comparison.total
    rows = _results(store, comparison.run_id)
    assert len(rows) == comparison.cells
    assert all(row[2] == "ok" and row[4] is not None for row in rows)
    run = runs.get_run(store.read(), comparison.run_id)
    assert run is not None and run.status == "cancelled" and run.finished_at is not None
    # Every call made belongs to a kept cell: nothing ran after the cancel.
    calls = (
        store.read()
        .execute("SELECT count(*) FROM calls WHERE run_id = ?", [comparison.run_id])
        .fetchone()[0]
    )
    assert calls == comparison.cells


def test_repeated_and_typed_inputs_each_get_one_cell_per_side(store: Store) -> None:
    seeded = _seed(store, cases=1)
    (case_id,) = seeded.case_ids
    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(),
        baseline_version_id=seeded.baseline_id,
        cases=[
            (case_id, {"ticket": "a"}),
            (case_id, {"ticket": "a"}),
            (None, {"ticket": "typed one"}),
            (None, {"ticket": "typed two"}),
        ],
        models=["llmbench/echo", "llmbench/mock"],
    )
    assert (comparison.status, comparison.total, comparison.errors) == ("done", 12, 0)
    keys = (
        store.read()
        .execute(
            "SELECT coalesce(version_id, 0), model, coalesce(case_id, 0), repeat FROM results"
            " WHERE run_id = ?",
            [comparison.run_id],
        )
        .fetchall()
    )
    assert len(keys) == 12 and len(set(keys)) == 12
    outputs = [
        row[0]
        for row in store.read().execute(
            "SELECT output FROM results WHERE run_id = ? AND model = 'llmbench/echo'"
            " AND case_id IS NULL",
            [comparison.run_id],
        )
    ]
    assert sum("typed one" in text for text in outputs) == 2
    assert sum("typed two" in text for text in outputs) == 2


def test_a_broken_draft_fails_its_cells_without_calling(store: Store) -> None:
    seeded = _seed(store, cases=1)
    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(sections={"task": "Ticket: {{ ticket"}),
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
    )
    assert (comparison.status, comparison.errors, comparison.baseline.errors) == ("done", 1, 0)
    (draft_row,) = [row for row in _results(store, comparison.run_id) if row[0] is None]
    assert draft_row[2] == "error" and draft_row[3].startswith("template error:")
    assert draft_row[4] is None


def test_a_version_of_another_prompt_or_no_cases_is_refused(store: Store) -> None:
    seeded = _seed(store, cases=1)
    other = store.write(lambda db: prompts_repo.create_prompt(db, "other"))
    with pytest.raises(DraftCompareError, match="not a version of other"):
        compare_draft(
            store,
            SETTINGS,
            other,
            _draft(),
            baseline_version_id=seeded.baseline_id,
            cases=_cases(seeded),
        )
    with pytest.raises(DraftCompareError, match="pick a test case"):
        compare_draft(
            store,
            SETTINGS,
            seeded.prompt_id,
            _draft(),
            baseline_version_id=seeded.baseline_id,
            cases=[],
        )
    assert store.read().execute("SELECT count(*) FROM runs").fetchone()[0] == 0


async def test_it_runs_from_a_worker_thread_beside_a_running_event_loop(store: Store) -> None:
    # As a Textual thread worker calls it: another loop (the app's) runs meanwhile.
    seeded = _seed(store, cases=1)
    comparison = await asyncio.to_thread(
        compare_draft,
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(),
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
    )
    assert (comparison.status, comparison.cells, comparison.errors) == ("done", 2, 0)


def _group(version_id: int | None, label: str, model: str) -> GroupStats:
    return GroupStats(version_id, label, model, 1, 1, 0, 1, None, 0.0, 0, None, None)


def test_the_report_compares_with_the_first_version_and_model_picked() -> None:
    # Stored cells come in version-id order: the draft (no id) and the lower id first.
    stored = [
        _group(None, "", "m1"),
        _group(3, "p@1", "m2"),
        _group(3, "p@1", "m1"),
        _group(7, "p@2", "m2"),
        _group(7, "p@2", "m1"),
    ]
    draft_run = {"source": "draft", "baseline_version_id": 3, "models": ["m1"]}
    assert [g.name for g in in_picked_order(stored[:1] + stored[2:3], draft_run)] == [
        "p@1 × m1",
        "draft × m1",
    ]
    picked = {"version_ids": [7, 3], "models": ["m2", "m1"]}
    assert [g.name for g in in_picked_order(stored[1:], picked)] == [
        "p@2 × m2",
        "p@2 × m1",
        "p@1 × m2",
        "p@1 × m1",
    ]


def test_the_drafts_cache_marks_are_sent_as_the_saved_version_would_send_them(
    store: Store,
) -> None:
    seeded = _seed(store, cases=1)
    sections = {**BASE_DRAFT.sections, "format": "Answer in two short lines."}
    comparison = compare_draft(
        store,
        SETTINGS,
        seeded.prompt_id,
        _draft(sections=sections, cacheable=("format",)),
        baseline_version_id=seeded.baseline_id,
        cases=_cases(seeded),
    )
    assert comparison.status == "done"
    (sent,) = [
        json.loads(row[0])
        for row in store.read().execute(
            "SELECT c.messages FROM results r JOIN calls c ON c.id = r.call_id"
            " WHERE r.run_id = ? AND r.version_id IS NULL",
            [comparison.run_id],
        )
    ]
    # The marked section leads, alone and marked for the provider's cache, before the role it
    # follows when nothing is marked (the audit log keeps the messages as the gateway got them).
    assert [message["role"] for message in sent] == ["system", "system", "user"]
    assert sent[0] == {
        "role": "system",
        "content": "Answer in two short lines.",
        "cache_control": {"type": "ephemeral"},
    }
    assert sent[1] == {"role": "system", "content": "You answer support tickets kindly."}
