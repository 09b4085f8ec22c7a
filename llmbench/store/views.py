"""Read-only queries behind the TUI's panes. Each returns plain dataclasses.

Callers pass the connection of their own thread (`Store.read()`). Time windows are half-open
[since, until) over the stored ISO-8601 UTC text, which sorts like the time it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: F2's first read, through services.panes, is
    from sqlite_utils import Database  # on the TUI's start path and needs no sqlite_utils


def to_iso(moment: datetime) -> str:
    """A datetime in the store's timestamp format ('2025-06-01T12:00:00.000Z')."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- runs ------------------------------------------------------------------------------------

# A cell passes when it has checks and none of them failed.
_CELL_VERDICTS = """
    cell_verdicts AS (
        SELECT result_id, min(passed) AS passed
        FROM checks WHERE result_id IS NOT NULL GROUP BY result_id
    )
"""


@dataclass(frozen=True)
class RunRow:
    id: int
    name: str
    kind: str
    status: str
    created_at: str
    cells: int
    checked: int
    passed: int
    models: tuple[str, ...]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.checked if self.checked else None


@dataclass(frozen=True)
class MatrixCell:
    prompt_name: str
    version: int | None
    model: str
    cells: int
    checked: int
    passed: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.checked if self.checked else None


def run_rows(db: Database, limit: int = 500) -> list[RunRow]:
    rows = db.execute(
        f"""
        WITH {_CELL_VERDICTS}
        SELECT r.id, r.name, r.kind, r.status, r.created_at,
               count(res.id), count(cv.passed), coalesce(sum(cv.passed), 0),
               (SELECT json_group_array(model) FROM
                   (SELECT DISTINCT model FROM results WHERE run_id = r.id ORDER BY model))
        FROM runs r
        LEFT JOIN results res ON res.run_id = r.id
        LEFT JOIN cell_verdicts cv ON cv.result_id = res.id
        GROUP BY r.id
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [RunRow(*row[:8], models=tuple(json.loads(row[8]))) for row in rows]


def run_matrix(db: Database, run_id: int) -> list[MatrixCell]:
    """Pass counts per prompt version × model of one run."""
    rows = db.execute(
        f"""
        WITH {_CELL_VERDICTS}
        SELECT coalesce(p.name, ''), v.version, res.model,
               count(res.id), count(cv.passed), coalesce(sum(cv.passed), 0)
        FROM results res
        LEFT JOIN prompt_versions v ON v.id = res.version_id
        LEFT JOIN prompts p ON p.id = v.prompt_id
        LEFT JOIN cell_verdicts cv ON cv.result_id = res.id
        WHERE res.run_id = ?
        GROUP BY res.version_id, res.model
        ORDER BY p.name, v.version, res.model
        """,
        [run_id],
    ).fetchall()
    return [MatrixCell(*row) for row in rows]


# -- grading ---------------------------------------------------------------------------------
# What F4 counts and previews is read by services.grading.queues, over the queue's own query
# (store.grading.queue), so the list and the queue it opens agree; this is the preview's row.


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "result" or "call"
    id: int
    source: str  # the run's name, or "call #id"
    prompt: str | None  # "name v3"
    model: str
    inputs: dict[str, object]
    expected: str | None
    output: str
