"""Cost queries: spend grouped by up to two call columns and the UTC day, in one scan.

Every breakdown, its rows' sparklines and the totals come from one GROUP BY over the window, so
a million calls are read once. Periods (week, month) and prompts (the prompt of a version) are
folded from the day and the version id by the service: grouping SQLite by the raw column keeps
the query free of per-row date functions and joins. Filters on a tagged column use that
column's `(column, ts)` index. Where the log stands (its id range, its latest call) tells the
service when sums it holds have gone stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.schema.reasoning_cache_tokens import ROLLUP_SUMS_M014
from llmbench.store.schema.rollups import ROLLUP_TABLES

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
    "conversation": "conversation_id",  # since m012; no rollup holds it (read from `calls`)
    "day": "substr(ts, 1, 10)",
    "week": "substr(ts, 1, 10)",
    "month": "substr(ts, 1, 10)",
}
# Dimensions most calls leave empty, with the partial index of the calls that have one (m012).
TAGGED_INDEXES: dict[str, str] = {"conversation": "calls_conversation"}
# Dimensions a filter may name, with the column it compares.
FILTER_COLUMNS: dict[str, str] = {
    name: column for name, column in GROUP_COLUMNS.items() if not column.startswith("substr")
}

_SUMS = (
    "count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
    " coalesce(sum(cached_tokens), 0), coalesce(sum(cost), 0), coalesce(sum(saving), 0),"
    " coalesce(sum(cost IS NULL AND status = 'ok'), 0),"
    " coalesce(sum(reasoning_tokens), 0), coalesce(sum(cache_write_tokens), 0)"
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
    reasoning_tokens: int = 0  # since m014; calls whose provider did not tell count 0
    cache_write_tokens: int = 0


def where_clause(
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
    tagged: str | None = None,
) -> list[GroupedRow]:
    """Sums per distinct value of each named dimension's SQL column and per day in
    [since, until) (no upper bound for None). `filters` maps a dimension to the one value kept
    (None for untagged); `ids` keeps only calls with first < id <= last, and `by_time=False`
    reads them by id (the rowid range) rather than on the time index. `tagged` (a dimension of
    TAGGED_INDEXES) keeps only the calls that have a value for it, read on its partial index."""
    sql_columns: list[str] = []
    for name in columns:
        if name not in GROUP_COLUMNS:
            raise ValueError(f"cannot group costs by {name!r}")
        column = GROUP_COLUMNS[name]
        if column not in sql_columns and not column.startswith("substr"):
            sql_columns.append(column)
    where, params = where_clause(since, until, filters or {}, prompt_versions=True)
    if ids is not None:
        # One of the two ranges drives the read; the unary + keeps SQLite off the other one.
        if by_time:
            where += " AND +id > ? AND +id <= ?"
        else:
            where = where.replace("ts >= ?", "+ts >= ?", 1) + " AND id > ? AND id <= ?"
        params += list(ids)
    source = "calls"
    if tagged is not None:
        # The partial index holds only the tagged calls: the time range and any filter are
        # checked on those (`+ts` and INDEXED BY keep SQLite off the time and filter indexes,
        # which would walk the window's or the filter's every call).
        where = where.replace("ts >= ?", "+ts >= ?", 1).replace("ts < ?", "+ts < ?", 1)
        where += f" AND {GROUP_COLUMNS[tagged]} IS NOT NULL"
        source = f"calls INDEXED BY {TAGGED_INDEXES[tagged]}"
    keys = [f"[{column}]" for column in sql_columns]
    select = ", ".join([*keys, "substr(ts, 1, 10)", _SUMS])
    group = ", ".join([*keys, "substr(ts, 1, 10)"])
    rows = db.execute(f"SELECT {select} FROM {source} WHERE {where} GROUP BY {group}", params)
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


# In GroupedRow's order: the sums of m004, then m014's.
_ROLLUP_SUMS = ", ".join(f"sum({name})" for name, _ in ROLLUP_SUMS_M014)


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
    where, params = where_clause(first_day, None, filters, prompt_versions=True)
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


def version_labels(db: Database) -> dict[int, tuple[str, int]]:
    """Every prompt version's (prompt name, version number), by version id."""
    return {
        row[0]: (row[1], row[2])
        for row in db.execute(
            "SELECT v.id, p.name, v.version FROM prompt_versions v JOIN prompts p"
            " ON p.id = v.prompt_id"
        ).fetchall()
    }


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


def tagged_at_most(db: Database, dimension: str, limit: int) -> int:
    """How many calls have a value for `dimension` (of TAGGED_INDEXES), counted on its partial
    index up to `limit`: enough to tell a few from many without walking many."""
    column, index = GROUP_COLUMNS[dimension], TAGGED_INDEXES[dimension]
    row = db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM calls INDEXED BY {index}"
        f" WHERE {column} IS NOT NULL LIMIT ?)",
        [limit],
    ).fetchone()
    return int(row[0])


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
