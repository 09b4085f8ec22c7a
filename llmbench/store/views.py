"""Read-only queries behind the TUI's panes. Each returns plain dataclasses.

Callers pass the connection of their own thread (`Store.read()`). Time windows are half-open
[since, until) over the stored ISO-8601 UTC text, which sorts like the time it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database


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

# A rubric's queue: every result (with an output) of each run someone started grading against
# it, plus any call graded against it directly. Runs carry no rubric of their own, so the first
# grade is what puts a run in the queue.
_QUEUE_ITEMS = """
    graded_runs AS (
        SELECT DISTINCT g.rubric_id, res.run_id
        FROM grades g JOIN results res ON res.id = g.result_id
    ),
    items AS (
        SELECT gr.rubric_id, 'result' AS kind, res.id AS item_id, res.run_id AS run_id
        FROM graded_runs gr JOIN results res ON res.run_id = gr.run_id
        WHERE res.output IS NOT NULL
        UNION
        SELECT rubric_id, 'call', call_id, NULL
        FROM grades WHERE call_id IS NOT NULL AND result_id IS NULL
    ),
    marks AS (
        SELECT rubric_id,
               CASE WHEN result_id IS NOT NULL THEN 'result' ELSE 'call' END AS kind,
               coalesce(result_id, call_id) AS item_id,
               max(reviewer = :reviewer) AS mine,
               max(reviewer != :reviewer) AS others
        FROM grades GROUP BY 1, 2, 3
    )
"""


@dataclass(frozen=True)
class QueueRow:
    rubric_id: int
    rubric: str
    description: str
    items: int
    graded_by_me: int
    graded_by_others: int

    @property
    def remaining(self) -> int:
        return self.items - self.graded_by_me


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


def grading_queue(db: Database, reviewer: str) -> list[QueueRow]:
    rows = db.execute(
        f"""
        WITH {_QUEUE_ITEMS}
        SELECT ru.id, ru.name, ru.description, count(i.item_id),
               coalesce(sum(m.mine), 0), coalesce(sum(m.others), 0)
        FROM rubrics ru
        LEFT JOIN items i ON i.rubric_id = ru.id
        LEFT JOIN marks m ON m.rubric_id = i.rubric_id AND m.kind = i.kind AND m.item_id = i.item_id
        GROUP BY ru.id
        ORDER BY ru.name
        """,
        {"reviewer": reviewer},
    ).fetchall()
    return [QueueRow(*row) for row in rows]


def next_ungraded(db: Database, rubric_id: int, reviewer: str) -> QueueItem | None:
    """The first item of a rubric's queue that `reviewer` has not graded yet."""
    row = db.execute(
        f"""
        WITH {_QUEUE_ITEMS}
        SELECT i.kind, i.item_id
        FROM items i
        LEFT JOIN marks m ON m.rubric_id = i.rubric_id AND m.kind = i.kind AND m.item_id = i.item_id
        WHERE i.rubric_id = :rubric AND coalesce(m.mine, 0) = 0
        ORDER BY i.kind DESC, i.run_id, i.item_id
        LIMIT 1
        """,
        {"reviewer": reviewer, "rubric": rubric_id},
    ).fetchone()
    if row is None:
        return None
    kind, item_id = row
    return _result_item(db, item_id) if kind == "result" else _call_item(db, item_id)


def _result_item(db: Database, result_id: int) -> QueueItem:
    row = db.execute(
        """
        SELECT res.id, coalesce(nullif(r.name, ''), 'run ' || r.id), p.name, v.version, res.model,
               c.vars, c.expected, coalesce(res.output, '')
        FROM results res
        JOIN runs r ON r.id = res.run_id
        LEFT JOIN prompt_versions v ON v.id = res.version_id
        LEFT JOIN prompts p ON p.id = v.prompt_id
        LEFT JOIN cases c ON c.id = res.case_id
        WHERE res.id = ?
        """,
        [result_id],
    ).fetchone()
    return QueueItem(
        kind="result",
        id=row[0],
        source=row[1],
        prompt=f"{row[2]} v{row[3]}" if row[2] is not None else None,
        model=row[4],
        inputs=dict(json.loads(row[5])) if row[5] else {},
        expected=row[6],
        output=row[7],
    )


def _call_item(db: Database, call_id: int) -> QueueItem:
    row = db.execute(
        """
        SELECT c.id, p.name, v.version, c.model, c.messages, coalesce(c.response, '')
        FROM calls c
        LEFT JOIN prompt_versions v ON v.id = c.prompt_version_id
        LEFT JOIN prompts p ON p.id = v.prompt_id
        WHERE c.id = ?
        """,
        [call_id],
    ).fetchone()
    messages = json.loads(row[4]) if row[4] else []
    last_user = next(
        (
            m.get("content")
            for m in reversed(messages)
            if isinstance(m, dict) and m.get("role") == "user"
        ),
        None,
    )
    return QueueItem(
        kind="call",
        id=row[0],
        source=f"call #{row[0]}",
        prompt=f"{row[1]} v{row[2]}" if row[1] is not None else None,
        model=row[3],
        inputs={"message": last_user} if last_user is not None else {},
        expected=None,
        output=row[5],
    )
