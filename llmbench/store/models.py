"""Reads behind the models view: which models this database knows (from calls, evaluation runs,
prices and routes) and what it measured of each, overall and per prompt.

Call counts, failures and cost come from the daily rollups (every call, without reading the
log); evaluation figures from the result cells and their checks, by the scoreboard's rule: a
cell passes when the model answered and none of its checks failed, and its judge score is the
mean of its judge checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from llmbench.store.views import to_iso

# Statuses that count as a failed call: the model or its provider did not answer.
FAILED_STATUSES = ("error", "timeout", "rate_limited")
_FAILED = ", ".join(f"'{status}'" for status in FAILED_STATUSES)
NO_PROMPT = ""
"""The prompt name of calls and cells that no saved prompt version made."""


@dataclass(frozen=True)
class CallTotals:
    model: str
    prompt: str | None
    """The prompt's name (NO_PROMPT for calls without a saved version); None: every prompt."""
    calls: int
    failed: int
    cost: float


@dataclass(frozen=True)
class CellTotals:
    model: str
    prompt: str | None
    """The prompt's name (NO_PROMPT for draft cells); None: every prompt."""
    cells: int
    passed: int
    judge_score: float | None
    """Mean over the judged cells of each cell's mean judge score, 0..1."""
    judged: int


def call_totals(db: Database) -> list[CallTotals]:
    """Per model and prompt, and per model over every prompt (prompt None)."""
    rows = db.execute(
        f"""
        SELECT r.model, coalesce(p.name, ''), sum(r.calls),
               sum(CASE WHEN r.status IN ({_FAILED}) THEN r.calls ELSE 0 END), sum(r.cost)
        FROM rollup_daily r
        LEFT JOIN prompt_versions pv ON pv.id = r.prompt_version_id
        LEFT JOIN prompts p ON p.id = pv.prompt_id
        GROUP BY r.model, coalesce(p.name, '')
        """
    ).fetchall()
    per_prompt = [CallTotals(row[0], row[1], row[2], row[3], row[4] or 0.0) for row in rows]
    return per_prompt + _summed_calls(per_prompt)


def _summed_calls(rows: list[CallTotals]) -> list[CallTotals]:
    totals: dict[str, list[float]] = {}
    for row in rows:
        sums = totals.setdefault(row.model, [0, 0, 0.0])
        sums[0] += row.calls
        sums[1] += row.failed
        sums[2] += row.cost
    return [
        CallTotals(model, None, int(calls), int(failed), cost)
        for model, (calls, failed, cost) in totals.items()
    ]


_CELLS = """
    WITH cell AS (
        SELECT r.model, r.version_id, r.status,
               (SELECT min(k.passed) FROM checks k WHERE k.result_id = r.id) AS verdict,
               (SELECT avg(k.score) FROM checks k
                WHERE k.result_id = r.id AND k.kind = 'judge') AS judge
        FROM results r
    )
    SELECT c.model, {prompt}, count(*),
           sum(c.status = 'ok' AND coalesce(c.verdict, 1) != 0),
           avg(c.judge), count(c.judge)
    FROM cell c
    LEFT JOIN prompt_versions pv ON pv.id = c.version_id
    LEFT JOIN prompts p ON p.id = pv.prompt_id
    GROUP BY c.model{group}
"""


def cell_totals(db: Database) -> list[CellTotals]:
    """Per model and prompt, and per model over every prompt (prompt None); the
    all-prompts judge score is the mean over every judged cell, not of the prompts' means."""
    rows = db.execute(
        _CELLS.format(prompt="coalesce(p.name, '')", group=", coalesce(p.name, '')")
    ).fetchall()
    rows += db.execute(_CELLS.format(prompt="NULL", group="")).fetchall()
    return [CellTotals(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]


def log_span(db: Database) -> tuple[str, str] | None:
    """[first call's time, just after the last's): the whole log as a window; None when empty."""
    first = db.execute("SELECT ts FROM calls INDEXED BY calls_ts ORDER BY ts LIMIT 1").fetchone()
    if first is None:
        return None
    last = db.execute(
        "SELECT ts FROM calls INDEXED BY calls_ts ORDER BY ts DESC LIMIT 1"
    ).fetchone()[0]
    after_last = datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    return first[0], to_iso(after_last)


def priced_models(db: Database) -> list[str]:
    """Models with a price in the prices table."""
    return [row[0] for row in db.execute("SELECT DISTINCT model FROM prices ORDER BY model")]


def version_models(db: Database) -> list[str]:
    """Models prompt versions name as their own."""
    return [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT model FROM prompt_versions WHERE model != '' ORDER BY model"
        )
    ]
