"""Verdicts from recorded runs (services/optimize/evidence.py), offline: a candidate whose run
needs a hosted model is judged by the newest finished run that compared the change itself
with the production version on its model, through the migration report and the same rule a
fresh run gets; the cheaper model is chosen from runs that ran it beside the production model
on this version; and the held candidates of one prompt stack rather than add up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.optimize.candidates import Candidate
from llmbench.services.optimize.candidates import find_candidates
from llmbench.services.optimize.overview import Overview, Verdict, overview
from llmbench.services.optimize.testing import save_candidate_version
from llmbench.store import datasets as datasets_repo
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs as runs_repo
from tests.support.optimize_traffic import SETTINGS, add_dataset, add_prompt, triage_calls
from tests.support.traffic import write_calls

NOW = datetime(2025, 6, 30, tzinfo=UTC)
HOSTED, CHEAPER = "gpt-4o", "gpt-4o-mini"
TICKETS = [f"parcel {n} is late" for n in range(10)]
BEFORE_WINDOW = "2025-05-20"  # the runs' own calls are not the month's traffic


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "evidence.db") as opened:
        yield opened


def _hosted_prompt(store: Store) -> int:
    version = add_prompt(store)
    write_calls(store, triage_calls(version, 40, model=HOSTED, cost=0.002))
    add_dataset(store, "triage", TICKETS)
    return version


def record_run(
    store: Store, groups: dict[tuple[int, str], tuple[list[bool], float]], *, day: str
) -> int:
    """A finished run with one cell per case per (version, model): whether its check passed,
    and its call at that cost."""
    db = store.read()
    cases = datasets_repo.list_cases(db, datasets_repo.dataset_id(db, "triage") or 0)
    calls: list[dict[str, Any]] = []
    for (version, model), (_, cost) in groups.items():
        for n, row in enumerate(triage_calls(version, len(cases), day=day, model=model, cost=cost)):
            row["request_id"] = f"run-{day}-{version}-{model}-{n}"
            calls.append(row)
    call_ids = iter(write_calls(store, calls))

    def job(db: Any) -> int:
        run = runs_repo.create_run(db, "compare", name=f"bake-off {day}", status="running")
        for (version, model), (passes, _) in groups.items():
            ids = runs_repo.add_results(
                db,
                run,
                [
                    runs_repo.NewResult(version, model, case.id, next(call_ids), "x", "ok")
                    for case in cases
                ],
            )
            runs_repo.add_checks(
                db,
                [
                    runs_repo.NewCheck("contains", passed, float(passed), result_id=result)
                    for result, passed in zip(ids, passes, strict=True)
                ],
            )
        runs_repo.finish_run(db, run, "done", finished_at=f"{day}T12:00:00.000Z")
        return run

    return store.write(job)


def _runs(store: Store) -> int:
    return int(store.read().execute("SELECT count(*) FROM runs").fetchone()[0])


def test_a_cheaper_model_held_in_a_recorded_run_counts_offline(store: Store) -> None:
    version = _hosted_prompt(store)
    every = [True] * len(TICKETS)
    run = record_run(
        store,
        {(version, HOSTED): (every, 0.002), (version, CHEAPER): (every, 0.0002)},
        day=BEFORE_WINDOW,
    )
    # A run that ran the cheaper model without the production one says nothing about it.
    record_run(store, {(version, "llmbench/echo"): (every, 0.00001)}, day="2025-05-21")
    found = find_candidates(store, "triage", now=NOW)
    cheaper = next(c for c in found.candidates if c.kind == "cheaper_model")
    assert cheaper.model == CHEAPER
    # The saving is replayed from the month's calls: their cost at 90% less per call, at the
    # pace of the days the version served.
    month = 30 / found.usage.window_days
    assert cheaper.projected_monthly == pytest.approx(40 * 0.002 * 0.9 * month)
    before = _runs(store)
    result = overview(store, SETTINGS, now=NOW, offline=True)
    verdict = next(v for v in result.verdicts if v.candidate.kind == "cheaper_model")
    assert verdict.status == "holds"
    assert verdict.note.startswith(f"recorded run {run}: quality +0.0 pts")
    assert verdict.projected_monthly == pytest.approx(cheaper.projected_monthly)
    assert _runs(store) == before  # judged from the record: nothing was run
    assert verdict in result.counted


def test_a_recorded_version_with_the_candidates_text_is_its_verdict(store: Store) -> None:
    version = _hosted_prompt(store)
    found = find_candidates(store, "triage", now=NOW)
    compression = next(c for c in found.candidates if c.kind == "compression")
    saved = save_candidate_version(store, found, compression)
    half = [n % 2 == 0 for n in range(len(TICKETS))]
    run = record_run(
        store,
        {(version, HOSTED): ([True] * len(TICKETS), 0.002), (saved, HOSTED): (half, 0.0019)},
        day=BEFORE_WINDOW,
    )
    result = overview(store, SETTINGS, now=NOW, offline=True)
    statuses = {v.candidate.kind: (v.status, v.note) for v in result.verdicts}
    status, note = statuses["compression"]
    assert status == "does not hold"
    assert note.startswith(f"recorded run {run}: quality -50.0 pts")
    assert note.endswith(f"{len(TICKETS) // 2} regressions")
    # No version holds the other changes: they stay untested, and count for nothing.
    assert statuses["caching"] == ("not tested", f"needs {HOSTED}: not run offline")
    assert all(v.candidate.kind == "exact_cache" for v in result.counted)


def _verdict(kind: str, saving: float, base: float, prompt: str = "p") -> Verdict:
    candidate = Candidate(kind, kind, (), saving, saving)  # type: ignore[arg-type]
    return Verdict(prompt, candidate, "holds", saving, "", base)


def test_one_prompts_savings_stack_on_what_the_others_leave() -> None:
    result = Overview(
        100.0,
        (
            _verdict("exact_cache", 40.0, 50.0),  # 80% of the prompt's month
            _verdict("cheaper_model", 25.0, 50.0),  # 50%: of the 20% the cache leaves
            _verdict("exact_cache", 5.0, 20.0, prompt="q"),
        ),
    )
    assert result.prompt_savings() == pytest.approx({"p": 50.0 * (1 - 0.2 * 0.5), "q": 5.0})
    assert result.saving == pytest.approx(45.0 + 5.0)
    assert result.share == pytest.approx(0.5)
