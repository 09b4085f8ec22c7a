"""What the cost optimizer reads of a version's traffic (its answered calls in a window: tokens,
answers, prices, which pool examples they showed, the requests for an exact-cache replay), how
the prompt's models scored in past runs, and the `optimizations` table (m019) of changes
shipped with the saving projected then."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.core.models import Example

ANSWERS_READ = 500  # answers the shape of a version's output is judged from (the newest)


@dataclass(frozen=True)
class VersionCalls:
    model: str  # the model most of the window's calls went to
    calls: int
    cost: float
    completion_tokens: list[int]
    answers: list[str]
    input_price: float | None
    output_price: float | None
    cached_price: float | None
    mean_prompt_tokens: float


# Production traffic: an evaluation run's own calls (run_id set) are not the version's month.
_ANSWERED = (
    "prompt_version_id = ? AND model = ? AND ts >= ? AND ts < ? AND status = 'ok'"
    " AND run_id IS NULL"
)


def main_model(db: Database, version_id: int, since: str, until: str) -> str | None:
    row = db.execute(
        "SELECT model FROM calls WHERE prompt_version_id = ? AND ts >= ? AND ts < ?"
        " AND status = 'ok' AND run_id IS NULL GROUP BY model ORDER BY count(*) DESC, model"
        " LIMIT 1",
        [version_id, since, until],
    ).fetchone()
    return None if row is None else str(row[0])


def version_calls(db: Database, version_id: int, since: str, until: str) -> VersionCalls | None:
    model = main_model(db, version_id, since, until)
    if model is None:
        return None
    args = [version_id, model, since, until]
    calls, cost, ip, op, cp, mean_prompt = db.execute(
        "SELECT count(*), coalesce(sum(cost), 0), avg(input_price), avg(output_price),"
        f" avg(cached_price), coalesce(avg(prompt_tokens), 0) FROM calls WHERE {_ANSWERED}",
        args,
    ).fetchone()
    tokens = [
        int(row[0])
        for row in db.execute(f"SELECT completion_tokens FROM calls WHERE {_ANSWERED}", args)
    ]
    answers = [
        str(row[0])
        for row in db.execute(
            f"SELECT response FROM calls WHERE {_ANSWERED} AND response IS NOT NULL"
            " ORDER BY ts DESC LIMIT ?",
            [*args, ANSWERS_READ],
        )
    ]
    return VersionCalls(model, calls, cost, tokens, answers, ip, op, cp, mean_prompt)


def example_uses(
    db: Database, version_id: int, examples: Sequence[Example], since: str, until: str
) -> list[int]:
    """Per pool example, the window's calls whose messages showed its input (dynamic few-shot
    puts the chosen examples' text in the request)."""
    return [
        int(
            db.execute(
                "SELECT count(*) FROM calls WHERE prompt_version_id = ? AND ts >= ? AND ts < ?"
                " AND run_id IS NULL AND instr(messages, ?) > 0",
                [version_id, since, until, json.dumps(example.input)[1:-1]],
            ).fetchone()[0]
        )
        for example in examples
    ]


def requests(db: Database, version_id: int, since: str, until: str) -> list[tuple[str, str, float]]:
    """(ts, request key, cost) of each answered call: the key hashes model, messages and
    params, what the gateway's exact cache keys on."""
    found = []
    for ts, model, messages, params, cost in db.execute(
        "SELECT ts, model, messages, params, coalesce(cost, 0) FROM calls WHERE"
        " prompt_version_id = ? AND ts >= ? AND ts < ? AND status = 'ok'"
        " AND messages IS NOT NULL AND run_id IS NULL",
        [version_id, since, until],
    ):
        digest = hashlib.sha256("\x00".join((model, messages, params)).encode()).hexdigest()
        found.append((str(ts), digest, float(cost)))
    return found


@dataclass(frozen=True)
class ModelRunScore:
    model: str
    checked: int
    passed: int
    cost: float
    priced: int


SCORES_OF_CELLS = """
    verdicts AS (
        SELECT result_id, min(passed) AS passed FROM checks
        WHERE result_id IN (SELECT id FROM cells) AND passed IS NOT NULL GROUP BY result_id
    )
    SELECT cells.model, count(v.passed), coalesce(sum(v.passed), 0),
           coalesce(sum(c.cost), 0), count(c.cost)
    FROM cells LEFT JOIN verdicts v ON v.result_id = cells.id
    LEFT JOIN calls c ON c.id = cells.call_id
    GROUP BY cells.model ORDER BY cells.model
"""
"""The tail of a query scoring a CTE `cells (id, model, call_id)` per model: ModelRunScore's
columns."""


def prompt_model_scores(db: Database, prompt_id: int) -> list[ModelRunScore]:
    """Each model's cells of this prompt's versions over every run: cells with checks, those
    whose checks all passed, and the cost of the priced ones."""
    rows = db.execute(
        """
        WITH cells AS (
            SELECT res.id, res.model, res.call_id FROM results res
            JOIN prompt_versions v ON v.id = res.version_id WHERE v.prompt_id = ?
        ),"""
        + SCORES_OF_CELLS,
        [prompt_id],
    ).fetchall()
    return [ModelRunScore(*row) for row in rows]


# -- shipped optimizations -----------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    id: int
    prompt_id: int
    prompt: str
    kind: str
    title: str
    baseline_version_id: int
    candidate_version_id: int | None
    model: str
    route: str
    run_id: int | None
    label_move_id: int | None
    baseline_cost_per_call: float
    projected_monthly: float
    quality_delta: float | None
    shipped_at: str


def record_shipped(
    db: Database,
    *,
    prompt_id: int,
    kind: str,
    title: str,
    baseline_version_id: int,
    candidate_version_id: int | None,
    model: str,
    route: str,
    run_id: int | None,
    label_move_id: int | None,
    baseline_cost_per_call: float,
    projected_monthly: float,
    quality_delta: float | None,
    shipped_at: str,
    shipped_by: str = "",
) -> int:
    cursor = db.execute(
        "INSERT INTO optimizations (prompt_id, kind, title, baseline_version_id,"
        " candidate_version_id, model, route, run_id, label_move_id, baseline_cost_per_call,"
        " projected_monthly, quality_delta, shipped_at, shipped_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            prompt_id, kind, title, baseline_version_id, candidate_version_id, model, route,
            run_id, label_move_id, baseline_cost_per_call, projected_monthly, quality_delta,
            shipped_at, shipped_by,
        ],
    )  # fmt: skip
    return int(cursor.lastrowid)


def shipped(db: Database) -> list[Shipped]:
    rows = db.execute(
        "SELECT o.id, o.prompt_id, p.name, o.kind, o.title, o.baseline_version_id,"
        " o.candidate_version_id, o.model, o.route, o.run_id, o.label_move_id,"
        " o.baseline_cost_per_call, o.projected_monthly, o.quality_delta, o.shipped_at"
        " FROM optimizations o JOIN prompts p ON p.id = o.prompt_id ORDER BY o.shipped_at DESC"
    ).fetchall()
    return [Shipped(*row) for row in rows]


def calls_since(
    db: Database, version_id: int, since: str, model: str = "", *, cache_hits: bool = False
) -> tuple[int, float]:
    """Answered calls of a version (on `model` when given) since a time, and their cost; with
    `cache_hits`, the calls the response cache answered too (they cost nothing)."""
    row = db.execute(
        "SELECT count(*), coalesce(sum(cost), 0) FROM calls WHERE prompt_version_id = ?"
        " AND ts >= ? AND (status = 'ok' OR (? AND status = 'cache_hit'))"
        " AND (? = '' OR model = ?)",
        [version_id, since, cache_hits, model, model],
    ).fetchone()
    return int(row[0]), float(row[1])


def prompts_with_calls(db: Database, since: str, until: str) -> list[str]:
    """Prompts whose versions answered calls in the window, the costliest first."""
    rows = db.execute(
        "SELECT p.name FROM calls c JOIN prompt_versions v ON v.id = c.prompt_version_id"
        " JOIN prompts p ON p.id = v.prompt_id WHERE c.ts >= ? AND c.ts < ? AND c.status = 'ok'"
        " GROUP BY p.id ORDER BY coalesce(sum(c.cost), 0) DESC, p.name",
        [since, until],
    ).fetchall()
    return [str(row[0]) for row in rows]


def spend(db: Database, since: str, until: str) -> float:
    """What every call in the window cost (the month's spend the optimizer's saving is a share
    of)."""
    row = db.execute(
        "SELECT coalesce(sum(cost), 0) FROM calls WHERE ts >= ? AND ts < ?", [since, until]
    ).fetchone()
    return float(row[0])


def recent_answered(
    db: Database, version_id: int, since: str, until: str, limit: int
) -> list[tuple[int, str, str]]:
    """(call id, messages, answer) of a version's answered calls in the window, newest first."""
    rows = db.execute(
        "SELECT id, messages, response FROM calls WHERE prompt_version_id = ? AND ts >= ?"
        " AND ts < ? AND status = 'ok' AND messages IS NOT NULL AND response IS NOT NULL"
        " AND run_id IS NULL"
        " AND purged_at IS NULL ORDER BY ts DESC, id DESC LIMIT ?",
        [version_id, since, until, limit],
    ).fetchall()
    return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]
