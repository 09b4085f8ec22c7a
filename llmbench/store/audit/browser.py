"""Reading the audit log a window at a time, however large it is.

Calls are listed newest first. Paging is by key, never by OFFSET: a page is "the N calls after
(or before) this one", which one index range scan answers whether the log holds ten calls or
ten million. Without search the order is (ts, id), served by `calls_ts` or by the (column, ts)
index of an equality filter (model, status, feature, team, customer, prompt version). With
full-text search the order is the insertion order (id), which FTS5 walks natively; calls are
appended as they happen, so the two orders agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from llmbench.core.audit.query import AuditQuery

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database

    # Every read here only executes SQL: the TUI passes its thread's plain connection, so that
    # F6's first read does not wait for sqlite_utils' import (~30 ms); other callers a Database.
    Reader = sqlite3.Connection | Database

Direction = Literal["older", "newer"]
COUNT_CAP = 10_000
_MAX_ID = 2**63 - 1
# One UNION ALL arm per value keeps index order for a few values of one column; past this, a
# plain IN and a sort is cheaper than many arms.
_MAX_ARMS = 12
_SNIPPET_OPEN, _SNIPPET_CLOSE = "\x02", "\x03"

_SUMMARY_COLUMNS = (
    "c.id, c.ts, c.request_id, c.attempt, c.model_requested, c.model, c.provider,"
    " c.prompt_version_id, c.run_id, c.status, c.prompt_tokens, c.completion_tokens, c.cost,"
    " c.latency_ms, c.ttft_ms, c.feature, c.team, c.customer, c.user, c.flagged,"
    " c.finish_reason, substr(coalesce(c.response, c.error, ''), 1, 240) AS preview"
)
# The equality filters that have a (column, ts) index, in the order one is preferred.
_INDEXED = (
    ("prompt_version_id", "version_ids"),
    ("model", "models"),
    ("feature", "features"),
    ("customer", "customers"),
    ("team", "teams"),
    ("status", "statuses"),
)
_PLAIN_LISTS = (
    ("user", "users"),
    ("task_type", "task_types"),
    ("provider", "providers"),
    ("request_id", "requests"),
    ("run_id", "runs"),
    ("conversation_id", "conversations"),  # partial (column, ts) indexes since m012
    ("trace_id", "traces"),
)
_NUMERIC = {
    "cost": "c.cost",
    "latency": "c.latency_ms",
    "ttft": "c.ttft_ms",
    "tokens": "(c.prompt_tokens + c.completion_tokens)",
}


@dataclass(frozen=True)
class CallKey:
    ts: str
    id: int


@dataclass(frozen=True)
class Snippet:
    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class CallSummary:
    id: int
    ts: str
    request_id: str
    attempt: int
    model_requested: str
    model: str
    provider: str
    prompt_version_id: int | None
    run_id: int | None
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    latency_ms: float | None
    ttft_ms: float | None
    feature: str | None
    team: str | None
    customer: str | None
    user: str | None
    flagged: int
    finish_reason: str | None
    preview: str
    prompt: str | None = None
    """'name v3' of the prompt version, when the call came from one."""
    snippet: Snippet | None = None
    """Where the search terms matched, with the matches marked."""

    @property
    def key(self) -> CallKey:
        return CallKey(self.ts, self.id)


@dataclass(frozen=True)
class Filter:
    """A query bound to this database and a moment: names resolved, times absolute."""

    query: AuditQuery
    where: tuple[str, ...]
    params: tuple[Any, ...]
    split_column: str | None
    split_values: tuple[Any, ...]
    fts: str | None

    @property
    def by_id(self) -> bool:
        return self.fts is not None

    @property
    def is_empty(self) -> bool:
        return not self.where and not self.split_values and self.fts is None


@dataclass(frozen=True)
class Page:
    rows: list[CallSummary]
    """Newest first, whichever way the page was read."""
    more: bool
    """Whether more rows lie beyond this page in the direction it was read."""


def _version_ids(db: Reader, query: AuditQuery) -> tuple[int, ...]:
    ids: list[int] = []
    for ref in query.prompts:
        sql = (
            "SELECT v.id FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id"
            " WHERE p.name = ?"
        )
        params: list[Any] = [ref.name]
        if ref.version is not None:
            sql += " AND v.version = ?"
            params.append(ref.version)
        ids.extend(int(row[0]) for row in db.execute(sql + " ORDER BY v.id", params))
    return tuple(dict.fromkeys(ids))


def _in(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    if len(values) == 1:
        return f"c.{column} = ?", [values[0]]
    return f"c.{column} IN ({', '.join('?' for _ in values)})", list(values)


def compile_filter(db: Reader, query: AuditQuery, now: datetime) -> Filter:
    """The SQL conditions of `query`; prompt names are looked up, relative times fixed."""
    where: list[str] = []
    params: list[Any] = []
    lists: dict[str, tuple[Any, ...]] = {
        "version_ids": _version_ids(db, query),
        **{name: getattr(query, name) for _, name in (*_INDEXED[1:], *_PLAIN_LISTS)},
    }
    if query.prompts and not lists["version_ids"]:
        where.append("0")  # no such prompt or version: nothing matches
    split_column: str | None = None
    split_values: tuple[Any, ...] = ()
    has_single = any(len(lists[name]) == 1 for _, name in _INDEXED)
    for column, name in (*_INDEXED, *_PLAIN_LISTS):
        values = lists[name]
        if not values:
            continue
        splittable = (column, name) in _INDEXED and 1 < len(values) <= _MAX_ARMS
        if splittable and split_column is None and not has_single and not query.text:
            split_column, split_values = column, values
            continue
        clause, clause_params = _in(column, values)
        where.append(clause)
        params.extend(clause_params)
    if query.since is not None:
        where.append("c.ts >= ?")
        params.append(query.since.resolve(now))
    if query.until is not None:
        where.append("c.ts < ?")
        params.append(query.until.resolve(now))
    for comparison in query.comparisons:
        where.append(f"{_NUMERIC[comparison.field]} {comparison.op} ?")
        params.append(comparison.value)
    if query.flagged:
        where.append("c.flagged = 1")  # the literal lets the partial calls_flagged index serve
    for rule in query.guard_rules:
        # Guard findings mark the call flagged: the partial calls_flagged index finds them.
        where.append(
            "c.flagged = 1 AND EXISTS (SELECT 1 FROM json_each(c.guard_flags) g"
            " WHERE g.value = ? OR (g.type = 'object' AND ? IN (json_extract(g.value, '$.rule'),"
            " json_extract(g.value, '$.kind'), json_extract(g.value, '$.action'))))"
        )
        params.extend([rule, rule])
    return Filter(query, tuple(where), tuple(params), split_column, split_values, query.fts_match())


def _version_labels(db: Reader, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.execute(
        "SELECT v.id, p.name, v.version FROM prompt_versions v JOIN prompts p"
        f" ON p.id = v.prompt_id WHERE v.id IN ({marks})",
        list(ids),
    )
    return {int(row[0]): f"{row[1]} v{row[2]}" for row in rows}


def _snippet(marked: str | None) -> Snippet | None:
    if marked is None:
        return None
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start = 0
    for char in marked:
        if char == _SNIPPET_OPEN:
            start = length
        elif char == _SNIPPET_CLOSE:
            spans.append((start, length))
        else:
            text.append(" " if char in "\n\r\t" else char)
            length += 1
    return Snippet("".join(text), tuple(spans))


def _summaries(db: Reader, raw: list[tuple[Any, ...]], with_snippet: bool) -> list[CallSummary]:
    labels = _version_labels(db, {row[7] for row in raw if row[7] is not None})
    rows = []
    for values in raw:
        base = values[:22]
        snippet = _snippet(values[22]) if with_snippet else None
        prompt = labels.get(values[7]) if values[7] is not None else None
        rows.append(CallSummary(*base, prompt=prompt, snippet=snippet))
    return rows


def _keyset(flt: Filter, key: CallKey | None, direction: Direction) -> tuple[str, list[Any]]:
    if key is None:
        return "", []
    op = "<" if direction == "older" else ">"
    if flt.by_id:
        # On the FTS table's rowid, so FTS5 itself starts its walk at the key.
        return f" AND calls_fts.rowid {op} ?", [key.id]
    return f" AND (c.ts, c.id) {op} (?, ?)", [key.ts, key.id]


def _select(
    flt: Filter,
    key: CallKey | None,
    direction: Direction,
    limit: int,
    *,
    columns: str = _SUMMARY_COLUMNS,
) -> tuple[str, list[Any]]:
    order = "DESC" if direction == "older" else "ASC"
    keyset, key_params = _keyset(flt, key, direction)
    conditions = "".join(f" AND ({clause})" for clause in flt.where)
    if flt.by_id:
        snippet = ", snippet(calls_fts, -1, char(2), char(3), '…', 12)" if columns else ""
        sql = (
            f"SELECT {columns or 'c.id'}{snippet}"
            " FROM calls_fts CROSS JOIN calls c ON c.id = calls_fts.rowid"
            f" WHERE calls_fts MATCH ?{keyset}{conditions}"
            f" ORDER BY calls_fts.rowid {order} LIMIT ?"
        )
        return sql, [flt.fts, *key_params, *flt.params, limit]
    arm = (
        f"SELECT {columns or 'c.id, c.ts'} FROM calls c WHERE 1{{split}}{keyset}{conditions}"
        f" ORDER BY c.ts {order}, c.id {order} LIMIT ?"
    )
    if flt.split_column is None:
        return arm.format(split=""), [*key_params, *flt.params, limit]
    arms, params = [], []
    for value in flt.split_values:
        arms.append("SELECT * FROM (" + arm.format(split=f" AND c.{flt.split_column} = ?") + ")")
        params.extend([value, *key_params, *flt.params, limit])
    sql = " UNION ALL ".join(arms) + f" ORDER BY ts {order}, id {order} LIMIT ?"
    return sql, [*params, limit]


def page(
    db: Reader,
    flt: Filter,
    *,
    after: CallKey | None = None,
    direction: Direction = "older",
    limit: int = 100,
) -> Page:
    """Up to `limit` calls next to `after` in `direction` ("older": further down the list).
    Without `after`, "older" reads from the newest call and "newer" from the oldest."""
    sql, params = _select(flt, after, direction, limit + 1)
    raw = db.execute(sql, params).fetchall()
    more = len(raw) > limit
    raw = raw[:limit]
    if direction == "newer":
        raw.reverse()
    return Page(_summaries(db, raw, flt.by_id), more)


def seek(db: Reader, flt: Filter, moment: str, limit: int = 100) -> Page:
    """The calls at or before `moment`, newest first: where a jump to a date lands."""
    if flt.by_id:
        row = db.execute(
            "SELECT id FROM calls WHERE ts < ? ORDER BY ts DESC, id DESC LIMIT 1", [moment]
        ).fetchone()
        after = CallKey(moment, int(row[0]) + 1 if row else 0)
    else:
        after = CallKey(moment, 0)
    return page(db, flt, after=after, direction="older", limit=limit)


def call_columns(db: Reader) -> list[str]:
    """Every column of `calls`, in the order `iter_rows` gives them (an export's header)."""
    return [d[0] for d in db.execute("SELECT * FROM calls LIMIT 0").description]


def has_calls(db: Reader) -> bool:
    """Whether the log holds any call (one row read, where a count reads them all)."""
    return db.execute("SELECT 1 FROM calls LIMIT 1").fetchone() is not None


def count(db: Reader, flt: Filter, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many calls match, and whether that is exact: counting stops past `cap` (a filter
    over millions of rows is told as "10,000+"), except for the whole log, which counts
    through its smallest index."""
    if flt.is_empty:
        return int(db.execute("SELECT count(*) FROM calls").fetchone()[0]), True
    sql, params = _select(flt, None, "older", cap + 1, columns="")
    found = int(db.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])
    return min(found, cap), found <= cap


def iter_rows(db: Reader, flt: Filter, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every column of every matching call, oldest first, read a batch at a time by key so an
    export of millions of rows holds one batch in memory."""
    key: CallKey | None = None
    while True:
        found = page(db, flt, after=key, direction="newer", limit=batch)
        rows = list(reversed(found.rows))
        if not rows:
            return
        ids = [row.id for row in rows]
        marks = ", ".join("?" for _ in ids)
        cursor = db.execute(f"SELECT * FROM calls WHERE id IN ({marks})", ids)
        names = [d[0] for d in cursor.description]
        full = {values[0]: dict(zip(names, values, strict=True)) for values in cursor}
        for call_id in ids:
            if call_id in full:
                yield full[call_id]
        if not found.more:
            return
        key = rows[-1].key


# -- one call --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    id: int
    ts: str
    attempt: int
    model: str
    status: str
    latency_ms: float | None
    error: str | None


@dataclass(frozen=True)
class CallDetail:
    call: dict[str, Any]
    """Every column of the row."""
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    tags: dict[str, Any]
    guard_flags: list[Any]
    prompt_id: int | None
    prompt_name: str | None
    prompt_version: int | None
    variables: list[Any]
    """The prompt version's declared variables (names and kinds), for promotion."""
    attempts: list[Attempt]
    """Every attempt of the same request, this one included, in order."""


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def call_detail(db: Reader, call_id: int) -> CallDetail | None:
    cursor = db.execute("SELECT * FROM calls WHERE id = ?", [call_id])
    values = cursor.fetchone()
    if values is None:
        return None
    call = dict(zip([d[0] for d in cursor.description], values, strict=True))
    prompt = None
    if call["prompt_version_id"] is not None:
        prompt = db.execute(
            "SELECT p.id, p.name, v.version, v.variables FROM prompt_versions v"
            " JOIN prompts p ON p.id = v.prompt_id WHERE v.id = ?",
            [call["prompt_version_id"]],
        ).fetchone()
    attempts = [
        Attempt(*row)
        for row in db.execute(
            "SELECT id, ts, attempt, model, status, latency_ms, error FROM calls"
            " WHERE request_id = ? ORDER BY attempt, id",
            [call["request_id"]],
        )
    ]
    messages = _json(call["messages"], [])
    return CallDetail(
        call=call,
        messages=[m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else [],
        params=_json(call["params"], {}),
        tags=_json(call["tags"], {}),
        guard_flags=_json(call["guard_flags"], []),
        prompt_id=prompt[0] if prompt else None,
        prompt_name=prompt[1] if prompt else None,
        prompt_version=prompt[2] if prompt else None,
        variables=_json(prompt[3], []) if prompt else [],
        attempts=attempts,
    )


def dataset_names(db: Reader) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM datasets ORDER BY name")]
