"""Cost queries: spend grouped by up to two call columns and the UTC day, in one scan.

Every breakdown, its rows' sparklines and the totals come from one GROUP BY over the window, so
a million calls are read once. Periods (week, month) and prompts (the prompt of a version) are
folded from the day and the version id by the service: grouping SQLite by the raw column keeps
the query free of per-row date functions and joins. Filters on a tagged column use that
column's `(column, ts)` index.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.migrations import ROLLUP_SUMS, ROLLUP_TABLES

# What each dimension groups by in SQL; the service folds some of them further.
GROUP_COLUMNS: dict[str, str] = {
    "model": "model",
    "provider": "provider",
    "prompt": "prompt_version_id",
    "version": "prompt_version_id",
    "feature": "feature",
    "team": "team",
    "customer": "customer",
    "task_type": "task_type",
    "user": "user",
    "status": "status",
    "day": "substr(ts, 1, 10)",
    "week": "substr(ts, 1, 10)",
    "month": "substr(ts, 1, 10)",
}
# Dimensions a filter may name, with the column it compares.
FILTER_COLUMNS: dict[str, str] = {
    name: column for name, column in GROUP_COLUMNS.items() if not column.startswith("substr")
}

_SUMS = (
    "count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
    " coalesce(sum(cached_tokens), 0), coalesce(sum(cost), 0), coalesce(sum(saving), 0),"
    " coalesce(sum(cost IS NULL AND status = 'ok'), 0)"
)


# Not frozen: a breakdown by user builds tens of thousands of these, and a frozen dataclass
# takes four times as long to make. Nothing changes one once made.
@dataclass(slots=True)
class GroupedRow:
    """Sums over the calls sharing `keys` (one per grouped column) on one UTC `day`."""

    keys: tuple[str | int | None, ...]
    day: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost: float
    saving: float
    unpriced: int


def _where(
    since: str, until: str | None, filters: Mapping[str, str | int | None], prompt_versions: bool
) -> tuple[str, list[object]]:
    clauses = ["ts >= ?"] if until is None else ["ts >= ?", "ts < ?"]
    params: list[object] = [since] if until is None else [since, until]
    for name, value in filters.items():
        if name not in FILTER_COLUMNS:
            raise ValueError(f"cannot filter costs by {name!r}")
        column = FILTER_COLUMNS[name]
        if value is None:
            clauses.append(f"{column} IS NULL")
        elif name == "prompt" and prompt_versions:
            clauses.append(
                "prompt_version_id IN (SELECT v.id FROM prompt_versions v"
                " JOIN prompts p ON p.id = v.prompt_id WHERE p.name = ?)"
            )
            params.append(value)
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params


def grouped(
    db: Database,
    columns: Sequence[str],
    since: str,
    until: str | None,
    filters: Mapping[str, str | int | None] | None = None,
    *,
    ids: tuple[int, int] | None = None,
    by_time: bool = True,
) -> list[GroupedRow]:
    """Sums per distinct value of each named dimension's SQL column and per day in
    [since, until) (no upper bound for None). `filters` maps a dimension to the one value kept
    (None for untagged); `ids` keeps only calls with first < id <= last, and `by_time=False`
    reads them by id (the rowid range) rather than on the time index."""
    sql_columns: list[str] = []
    for name in columns:
        if name not in GROUP_COLUMNS:
            raise ValueError(f"cannot group costs by {name!r}")
        column = GROUP_COLUMNS[name]
        if column not in sql_columns and not column.startswith("substr"):
            sql_columns.append(column)
    where, params = _where(since, until, filters or {}, prompt_versions=True)
    if ids is not None:
        # One of the two ranges drives the read; the unary + keeps SQLite off the other one.
        if by_time:
            where += " AND +id > ? AND +id <= ?"
        else:
            where = where.replace("ts >= ?", "+ts >= ?", 1) + " AND id > ? AND id <= ?"
        params += list(ids)
    keys = [f"[{column}]" for column in sql_columns]
    select = ", ".join([*keys, "substr(ts, 1, 10)", _SUMS])
    group = ", ".join([*keys, "substr(ts, 1, 10)"])
    rows = db.execute(f"SELECT {select} FROM calls WHERE {where} GROUP BY {group}", params)
    width = len(keys)
    by_column = {column: index for index, column in enumerate(sql_columns)}
    picks = [
        by_column.get(GROUP_COLUMNS[name], -1)
        for name in columns  # a period dimension reads the day, at index `width`
    ]
    found = []
    for row in rows.fetchall():
        found.append(
            GroupedRow(
                tuple(row[pick] if pick >= 0 else row[width] for pick in picks),
                row[width],
                *row[width + 1 :],
            )
        )
    return found


def rollup_table(columns: Sequence[str], filters: Mapping[str, object]) -> str | None:
    """The daily rollup table whose grain holds every dimension grouped or filtered on: the
    main one when it does, else the customer or user one (None when none does: such a
    breakdown reads `calls`)."""
    needed = {GROUP_COLUMNS[name] for name in [*columns, *filters] if name in GROUP_COLUMNS}
    needed.discard("substr(ts, 1, 10)")
    return next((table for table, keys in ROLLUP_TABLES.items() if needed <= set(keys)), None)


_ROLLUP_SUMS = ", ".join(f"sum({name})" for name, _ in ROLLUP_SUMS)


def rolled_up(
    db: Database,
    columns: Sequence[str],
    first_day: str,
    last_day: str,
    filters: Mapping[str, str | int | None] | None = None,
) -> list[GroupedRow]:
    """What `grouped` returns for the whole UTC days first_day … last_day (inclusive), read
    from the daily rollup that covers the dimensions. Raises ValueError if none does."""
    filters = filters or {}
    table = rollup_table(columns, filters)
    if table is None:
        raise ValueError(f"no daily rollup covers {[*columns, *filters]!r}")
    sql_columns = list(dict.fromkeys(GROUP_COLUMNS[name] for name in columns))
    sql_columns = [column for column in sql_columns if not column.startswith("substr")]
    where, params = _where(first_day, None, filters, prompt_versions=True)
    where = where.replace("ts >= ?", "day >= ? AND day <= ?", 1)
    params.insert(1, last_day)
    keys = [f"[{column}]" for column in sql_columns]
    rows = db.execute(
        f"SELECT {', '.join([*keys, 'day', _ROLLUP_SUMS])} FROM {table} WHERE {where}"
        # Day first: the rollup's index starts with it, so a table grouped by its own first
        # key (the customer or user rollups) is grouped in index order, without a sort.
        f" GROUP BY {', '.join(['day', *keys])}",
        params,
    ).fetchall()
    width = len(keys)
    by_column = {column: index for index, column in enumerate(sql_columns)}
    picks = [by_column.get(GROUP_COLUMNS[name], width) for name in columns]
    if picks == list(range(width)):  # the usual case: the keys as selected
        return [GroupedRow(row[:width], *row[width:]) for row in rows if row[width + 1]]
    return [
        GroupedRow(tuple(row[pick] for pick in picks), row[width], *row[width + 1 :])
        for row in rows
        if row[width + 1]
    ]


@contextmanager
def snapshot(db: Database) -> Iterator[None]:
    """One read transaction around several queries, so they all see the same calls (inside a
    transaction already, that one serves)."""
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        db.conn.execute("COMMIT")


def rollup_count(db: Database, first_day: str, last_day: str) -> int:
    """How many calls the whole UTC days first_day … last_day (inclusive) hold."""
    row = db.execute(
        "SELECT coalesce(sum(calls), 0) FROM rollup_daily WHERE day >= ? AND day <= ?",
        [first_day, last_day],
    ).fetchone()
    return int(row[0])


def version_labels(db: Database) -> dict[int, tuple[str, int]]:
    """Every prompt version's (prompt name, version number), by version id."""
    return {
        row[0]: (row[1], row[2])
        for row in db.execute(
            "SELECT v.id, p.name, v.version FROM prompt_versions v JOIN prompts p"
            " ON p.id = v.prompt_id"
        ).fetchall()
    }


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
    where, params = _where(since, until, filters or {}, prompt_versions=True)
    rows = db.execute(
        "SELECT c.id, c.ts, c.model, (SELECT p.name || ' v' || v.version FROM prompt_versions v"
        " JOIN prompts p ON p.id = v.prompt_id WHERE v.id = c.prompt_version_id),"
        " coalesce(c.cost, 0), c.prompt_tokens + c.completion_tokens"
        f" FROM calls c WHERE {where} AND c.cost IS NOT NULL"
        " ORDER BY c.cost DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [TopCall(*row) for row in rows]


def unpriced_models(
    db: Database, since: str, until: str, models: Sequence[str]
) -> list[tuple[str, int, int, int]]:
    """Of `models`, those with answered calls that have no cost in the window: (model, calls,
    prompt and completion tokens), most calls first (on the (model, ts) index). Listed, never
    hidden."""
    if not models:
        return []
    marks = ", ".join("?" for _ in models)
    rows = db.execute(
        "SELECT model, count(*), coalesce(sum(prompt_tokens), 0),"
        " coalesce(sum(completion_tokens), 0) FROM calls"
        f" WHERE model IN ({marks}) AND ts >= ? AND ts < ? AND cost IS NULL AND status = 'ok'"
        " GROUP BY model ORDER BY count(*) DESC, model",
        [*models, since, until],
    ).fetchall()
    return [(str(row[0]), int(row[1]), int(row[2]), int(row[3])) for row in rows]


# -- budgets ---------------------------------------------------------------------------------

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


# -- savings and insights --------------------------------------------------------------------


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


# -- trends ----------------------------------------------------------------------------------

TOKEN_EDGES = tuple(2**power for power in range(0, 21))  # 1 … 1,048,576 tokens


def _bucket(column: str) -> str:
    """The index of the power-of-two bucket `column` falls in, in plain SQL (no math
    functions, which not every SQLite build has)."""
    cases = " ".join(f"WHEN {column} < {edge} THEN {index}" for index, edge in
                     enumerate(TOKEN_EDGES[1:]))  # fmt: skip
    return f"CASE WHEN {column} <= 0 THEN -1 {cases} ELSE {len(TOKEN_EDGES) - 1} END"


def token_buckets(db: Database, since: str, until: str) -> list[tuple[int, int, int]]:
    """(prompt bucket, completion bucket, calls) over answered calls in the window; bucket i
    holds [2**i, 2**(i+1)) tokens, -1 holds none."""
    rows = db.execute(
        f"SELECT {_bucket('prompt_tokens')} AS pb, {_bucket('completion_tokens')} AS cb,"
        " count(*) FROM calls WHERE ts >= ? AND ts < ? AND status = 'ok' GROUP BY pb, cb",
        [since, until],
    ).fetchall()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def cost_by_day(db: Database, since: str, until: str) -> dict[str, float]:
    rows = db.execute(
        "SELECT substr(ts, 1, 10) AS day, coalesce(sum(cost), 0) FROM calls"
        " WHERE ts >= ? AND ts < ? GROUP BY day",
        [since, until],
    ).fetchall()
    return {day: float(cost) for day, cost in rows}


# -- imports ---------------------------------------------------------------------------------


def existing_request_ids(db: Database, request_ids: Sequence[str]) -> set[str]:
    """Which of these request ids the audit log already holds (on the calls_request index)."""
    found: set[str] = set()
    for start in range(0, len(request_ids), 500):
        chunk = list(request_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        found.update(
            row[0]
            for row in db.execute(
                f"SELECT DISTINCT request_id FROM calls WHERE request_id IN ({marks})", chunk
            ).fetchall()
        )
    return found


def id_bounds(db: Database) -> tuple[int, int]:
    """The first and last call id (0, 0 for an empty log): new calls always get higher ids, and
    a purge that deletes calls raises the first."""
    # Two subqueries: each is one B-tree descent; min and max in one SELECT scan the table.
    row = db.execute(
        "SELECT coalesce((SELECT min(id) FROM calls), 0), coalesce((SELECT max(id) FROM calls), 0)"
    ).fetchone()
    return int(row[0]), int(row[1])


def latest_ts(db: Database) -> str:
    """The time of the latest call ('' for an empty log), on the time index."""
    row = db.execute("SELECT max(ts) FROM calls").fetchone()
    return str(row[0] or "")
