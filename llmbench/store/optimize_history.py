"""What the cost optimizer reads of a version's history beyond its window's calls: when it
started serving (its first answered call in the window, for the pace its saving is projected
at), how each model scored on it in the finished runs that also ran it on its production model
(the same cases and checks on both sides, so their pass rates compare), and the finished runs
that compared two groups (a prompt version × a model each), which a candidate's verdict is read
from when it cannot be run (services/optimize/evidence.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.optimizations import SCORES_OF_CELLS, ModelRunScore


@dataclass(frozen=True)
class RecordedRun:
    id: int
    name: str
    finished_at: str


def runs_with_groups(
    db: Database, baseline: tuple[int, str], candidate: tuple[int, str]
) -> list[RecordedRun]:
    """Finished runs with cells of both groups, the newest first."""
    rows = db.execute(
        "SELECT r.id, r.name, coalesce(r.finished_at, r.created_at) AS at FROM runs r"
        " WHERE r.status = 'done'"
        " AND EXISTS (SELECT 1 FROM results WHERE run_id = r.id AND version_id = ? AND model = ?)"
        " AND EXISTS (SELECT 1 FROM results WHERE run_id = r.id AND version_id = ? AND model = ?)"
        " ORDER BY at DESC, r.id DESC",
        [*baseline, *candidate],
    ).fetchall()
    return [RecordedRun(int(row[0]), str(row[1]), str(row[2])) for row in rows]


def version_model_scores(db: Database, version_id: int, model: str) -> list[ModelRunScore]:
    """Each model's cells of this version in the finished runs that also ran it on `model`:
    cells with checks, those whose checks all passed, and the cost of the priced ones."""
    rows = db.execute(
        """
        WITH beside AS (
            SELECT DISTINCT res.run_id FROM results res JOIN runs r ON r.id = res.run_id
            WHERE res.version_id = ? AND res.model = ? AND r.status = 'done'
        ),
        cells AS (
            SELECT id, model, call_id FROM results
            WHERE version_id = ? AND run_id IN (SELECT run_id FROM beside)
        ),"""
        + SCORES_OF_CELLS,
        [version_id, model, version_id],
    ).fetchall()
    return [ModelRunScore(*row) for row in rows]


def first_call(db: Database, version_id: int, model: str, since: str, until: str) -> str | None:
    """When the version's first answered call on `model` in the window was made."""
    row = db.execute(
        "SELECT min(ts) FROM calls WHERE prompt_version_id = ? AND model = ? AND ts >= ?"
        " AND ts < ? AND status = 'ok' AND run_id IS NULL",
        [version_id, model, since, until],
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])
