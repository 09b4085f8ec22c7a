"""What the savings advice reads: how each prompt version used tokens and at what price, calls
without max_tokens, repeated requests, cache hits, and how recent runs' models scored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class VersionUse:
    """How one prompt version's calls in a window used tokens, with the prices they paid."""

    version_id: int
    prompt: str
    version: int
    model: str
    sections: str  # JSON, as stored
    calls: int
    prompt_tokens: int
    cached_tokens: int
    cost: float
    input_price: float | None  # mean USD per million uncached input tokens
    cached_price: float | None
    without_max_tokens: int
    cost_without_max_tokens: float


def version_use(db: Database, since: str, until: str) -> list[VersionUse]:
    rows = db.execute(
        """
        WITH used AS (
            SELECT prompt_version_id AS vid, model, count(*) AS calls,
                   sum(prompt_tokens) AS pt, sum(cached_tokens) AS ct,
                   coalesce(sum(cost), 0) AS cost, avg(input_price) AS ip,
                   avg(cached_price) AS cp,
                   sum(json_extract(params, '$.max_tokens') IS NULL
                       AND json_extract(params, '$.max_completion_tokens') IS NULL) AS open,
                   coalesce(sum(CASE WHEN json_extract(params, '$.max_tokens') IS NULL
                       AND json_extract(params, '$.max_completion_tokens') IS NULL
                       THEN cost END), 0) AS open_cost
            FROM calls
            WHERE ts >= ? AND ts < ? AND prompt_version_id IS NOT NULL AND status = 'ok'
            GROUP BY prompt_version_id, model
        )
        SELECT used.vid, p.name, v.version, used.model, v.sections, used.calls, used.pt,
               used.ct, used.cost, used.ip, used.cp, used.open, used.open_cost
        FROM used JOIN prompt_versions v ON v.id = used.vid JOIN prompts p ON p.id = v.prompt_id
        ORDER BY used.cost DESC
        """,
        [since, until],
    ).fetchall()
    return [VersionUse(*row) for row in rows]


@dataclass(frozen=True)
class OpenEnded:
    """Answered calls sent without max_tokens, per model."""

    model: str
    calls: int
    cost: float
    max_completion: int


def without_max_tokens(db: Database, since: str, until: str) -> list[OpenEnded]:
    rows = db.execute(
        "SELECT model, count(*), coalesce(sum(cost), 0), coalesce(max(completion_tokens), 0)"
        " FROM calls WHERE ts >= ? AND ts < ? AND status = 'ok'"
        " AND json_extract(params, '$.max_tokens') IS NULL"
        " AND json_extract(params, '$.max_completion_tokens') IS NULL"
        " GROUP BY model ORDER BY 3 DESC",
        [since, until],
    ).fetchall()
    return [OpenEnded(*row) for row in rows]


@dataclass(frozen=True)
class Repeats:
    """The same request (model, messages, params) answered more than once in the window."""

    model: str
    preview: str
    calls: int
    cost: float
    first_cost: float


def repeated_requests(db: Database, since: str, until: str, limit: int = 10) -> list[Repeats]:
    rows = db.execute(
        "SELECT model, substr(messages, 1, 200), count(*), coalesce(sum(cost), 0),"
        " coalesce(min(cost), 0) FROM calls"
        " WHERE ts >= ? AND ts < ? AND status = 'ok' AND messages IS NOT NULL"
        " GROUP BY model, messages, params HAVING count(*) > 1"
        " ORDER BY sum(cost) - min(cost) DESC LIMIT ?",
        [since, until, limit],
    ).fetchall()
    return [Repeats(*row) for row in rows]


def cache_savings(db: Database, since: str, until: str) -> tuple[int, float]:
    """Cache hits in the window and the spend they saved."""
    row = db.execute(
        "SELECT coalesce(sum(status = 'cache_hit'), 0), coalesce(sum(saving), 0) FROM calls"
        " WHERE ts >= ? AND ts < ?",
        [since, until],
    ).fetchone()
    return int(row[0]), float(row[1])


@dataclass(frozen=True)
class RunModel:
    """One model's cells in a recent run: how many passed their checks and what they cost."""

    run_id: int
    run_name: str
    model: str
    cells: int
    checked: int
    passed: int
    cost: float
    priced: int


def recent_run_models(db: Database, runs: int = 10) -> list[RunModel]:
    rows = db.execute(
        """
        WITH recent AS (SELECT id, name FROM runs ORDER BY created_at DESC, id DESC LIMIT ?),
        verdicts AS (
            SELECT result_id, min(passed) AS passed FROM checks
            WHERE result_id IN (SELECT r.id FROM results r JOIN recent ON recent.id = r.run_id)
            GROUP BY result_id
        )
        SELECT recent.id, coalesce(nullif(recent.name, ''), 'run ' || recent.id), res.model,
               count(res.id), count(v.passed), coalesce(sum(v.passed), 0),
               coalesce(sum(c.cost), 0), count(c.cost)
        FROM recent JOIN results res ON res.run_id = recent.id
        LEFT JOIN verdicts v ON v.result_id = res.id
        LEFT JOIN calls c ON c.id = res.call_id
        GROUP BY recent.id, res.model
        ORDER BY recent.id DESC, res.model
        """,
        [runs],
    ).fetchall()
    return [RunModel(*row) for row in rows]
