"""Budgets and the spend they watch: the budgets table, the alerts already raised, spend per
hour and the costliest calls of a window (the context of a spike or budget alert)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.costs.breakdowns import FILTER_COLUMNS, where_clause

BUDGET_SCOPES = ("global", "model", "feature", "team", "customer")


@dataclass(frozen=True)
class BudgetRow:
    id: int
    scope: str
    scope_value: str
    period: str
    limit_usd: float
    created_at: str


def set_budget(
    db: Database, scope: str, scope_value: str, period: str, limit_usd: float, created_at: str
) -> int:
    """Add a budget, or change the limit of the one with the same scope and period."""
    db.execute(
        "INSERT INTO budgets (scope, scope_value, period, limit_usd, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, scope_value, period)"
        " DO UPDATE SET limit_usd = excluded.limit_usd",
        [scope, scope_value, period, limit_usd, created_at],
    )
    row = db.execute(
        "SELECT id FROM budgets WHERE scope = ? AND scope_value = ? AND period = ?",
        [scope, scope_value, period],
    ).fetchone()
    return int(row[0])


def delete_budget(db: Database, budget_id: int) -> bool:
    return db.execute("DELETE FROM budgets WHERE id = ?", [budget_id]).rowcount == 1


def budgets(db: Database) -> list[BudgetRow]:
    rows = db.execute(
        "SELECT id, scope, scope_value, period, limit_usd, created_at FROM budgets"
        " ORDER BY scope, scope_value, period"
    ).fetchall()
    return [BudgetRow(*row) for row in rows]


def alert_keys(db: Database, kinds: Sequence[str]) -> set[str]:
    """The `key` in the context of every alert of these kinds ever raised: one finding is one
    alert, however often the check runs."""
    marks = ", ".join("?" for _ in kinds)
    rows = db.execute(
        f"SELECT json_extract(context, '$.key') FROM alerts WHERE kind IN ({marks})", list(kinds)
    ).fetchall()
    return {row[0] for row in rows if row[0]}


@dataclass(frozen=True)
class HourlySpend:
    hour: str  # 'YYYY-MM-DDTHH'
    scope: str | None
    cost: float
    calls: int


def hourly_spend(
    db: Database, since: str, until: str, scope_column: str | None = None
) -> list[HourlySpend]:
    """Cost per UTC hour in [since, until), overall or per value of one scope column."""
    if scope_column is not None and scope_column not in FILTER_COLUMNS:
        raise ValueError(f"cannot watch spend by {scope_column!r}")
    scope = f"[{FILTER_COLUMNS[scope_column]}]" if scope_column else "NULL"
    rows = db.execute(
        f"SELECT substr(ts, 1, 13) AS hour, {scope}, coalesce(sum(cost), 0), count(*)"
        f" FROM calls WHERE ts >= ? AND ts < ? GROUP BY hour, {scope}",
        [since, until],
    ).fetchall()
    return [HourlySpend(*row) for row in rows]


@dataclass(frozen=True)
class TopCall:
    id: int
    ts: str
    model: str
    prompt: str | None
    cost: float
    tokens: int


def top_calls(
    db: Database,
    since: str,
    until: str,
    filters: Mapping[str, str | int | None] | None = None,
    limit: int = 5,
) -> list[TopCall]:
    """The most expensive calls of a window (the context of a spike or budget alert)."""
    where, params = where_clause(since, until, filters or {}, prompt_versions=True)
    rows = db.execute(
        "SELECT c.id, c.ts, c.model, (SELECT p.name || ' v' || v.version FROM prompt_versions v"
        " JOIN prompts p ON p.id = v.prompt_id WHERE v.id = c.prompt_version_id),"
        " coalesce(c.cost, 0), c.prompt_tokens + c.completion_tokens"
        f" FROM calls c WHERE {where} AND c.cost IS NOT NULL"
        " ORDER BY c.cost DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [TopCall(*row) for row in rows]
