"""Read-only queries behind the TUI's panes. Each returns plain dataclasses.

Callers pass the connection of their own thread (`Store.read()`). Time windows are half-open
[since, until) over the stored ISO-8601 UTC text, which sorts like the time it names.
"""

from __future__ import annotations

import json
import math
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


# -- costs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostTotals:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost: float
    saving: float
    unpriced: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class CostShare:
    name: str | None
    calls: int
    cost: float


def cost_totals(db: Database, since: str, until: str) -> CostTotals:
    row = db.execute(
        """
        SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
               coalesce(sum(cached_tokens), 0), coalesce(sum(cost), 0), coalesce(sum(saving), 0),
               coalesce(sum(cost IS NULL), 0)
        FROM calls WHERE ts >= ? AND ts < ?
        """,
        [since, until],
    ).fetchone()
    return CostTotals(*row)


def cost_by(db: Database, column: str, since: str, until: str, limit: int) -> list[CostShare]:
    """Cost grouped by one tag column of calls ('model', 'feature', 'team', ...), biggest first."""
    if column not in {"model", "feature", "team", "customer", "task_type", "user", "provider"}:
        raise ValueError(f"cannot group costs by {column!r}")
    rows = db.execute(
        f"""
        SELECT [{column}], count(*), coalesce(sum(cost), 0) AS total
        FROM calls WHERE ts >= ? AND ts < ?
        GROUP BY [{column}] ORDER BY total DESC, [{column}] LIMIT ?
        """,
        [since, until, limit],
    ).fetchall()
    return [CostShare(*row) for row in rows]


def cost_by_day(db: Database, since: str, until: str) -> dict[str, float]:
    """Cost per UTC day ('YYYY-MM-DD'), only days that had calls."""
    rows = db.execute(
        "SELECT substr(ts, 1, 10) AS day, coalesce(sum(cost), 0) FROM calls"
        " WHERE ts >= ? AND ts < ? GROUP BY day ORDER BY day",
        [since, until],
    ).fetchall()
    return {day: cost for day, cost in rows}


# -- audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    id: int
    ts: str
    model: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    latency_ms: float | None
    feature: str | None


def latest_calls(db: Database, limit: int) -> list[CallRow]:
    rows = db.execute(
        "SELECT id, ts, model, status, prompt_tokens, completion_tokens, cost, latency_ms, feature"
        " FROM calls ORDER BY ts DESC, id DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [CallRow(*row) for row in rows]


def call_count(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])


# -- monitor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowStats:
    calls: int
    errors: int
    timeouts: int
    rate_limited: int
    cache_hits: int
    cost: float
    p50_ms: float | None
    p95_ms: float | None


def _percentile(
    db: Database, since: str, until: str, fraction: float, ok_calls: int
) -> float | None:
    """Nearest-rank percentile of successful calls' latency in the window."""
    if ok_calls == 0:
        return None
    rank = max(math.ceil(fraction * ok_calls), 1)
    row = db.execute(
        "SELECT latency_ms FROM calls WHERE status = 'ok' AND ts >= ? AND ts < ?"
        " AND latency_ms IS NOT NULL ORDER BY latency_ms LIMIT 1 OFFSET ?",
        [since, until, rank - 1],
    ).fetchone()
    return None if row is None else float(row[0])


def window_stats(db: Database, since: str, until: str) -> WindowStats:
    row = db.execute(
        """
        SELECT count(*),
               coalesce(sum(status = 'error'), 0),
               coalesce(sum(status = 'timeout'), 0),
               coalesce(sum(status = 'rate_limited'), 0),
               coalesce(sum(status = 'cache_hit'), 0),
               coalesce(sum(cost), 0),
               coalesce(sum(status = 'ok' AND latency_ms IS NOT NULL), 0)
        FROM calls WHERE ts >= ? AND ts < ?
        """,
        [since, until],
    ).fetchone()
    ok_with_latency = int(row[6])
    return WindowStats(
        calls=row[0],
        errors=row[1],
        timeouts=row[2],
        rate_limited=row[3],
        cache_hits=row[4],
        cost=row[5],
        p50_ms=_percentile(db, since, until, 0.50, ok_with_latency),
        p95_ms=_percentile(db, since, until, 0.95, ok_with_latency),
    )


def calls_by_hour(db: Database, since: str, until: str) -> dict[str, int]:
    """Calls per UTC hour ('YYYY-MM-DDTHH'), only hours that had calls."""
    rows = db.execute(
        "SELECT substr(ts, 1, 13) AS hour, count(*) FROM calls"
        " WHERE ts >= ? AND ts < ? GROUP BY hour ORDER BY hour",
        [since, until],
    ).fetchall()
    return {hour: calls for hour, calls in rows}


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
