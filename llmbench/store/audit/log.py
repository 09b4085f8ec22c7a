"""Appending to and verifying the audit log (`calls`) with its hash chain.

Purging is `store.audit.purging`, the chain's other records `store.audit.chain_records`; their
names most callers use are importable from here too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import chain as iter_chain
from typing import Any
from weakref import WeakKeyDictionary

from sqlite_utils import Database

from llmbench.core.audit.chain import (
    CONTENT_FIELDS,
    LATER_CONTENT_FIELDS,
    LATER_METADATA_FIELDS,
    METADATA_FIELDS,
    ChainHead,
    ChainReport,
    seal,
)
from llmbench.core.audit.chain_verify import verify_log
from llmbench.store.audit import chain_records
from llmbench.store.audit.chain_records import (
    ChainKeyMismatch,
    SealPoint,
    chain_head,
    database_id,
    sealing_point,
)
from llmbench.store.audit.purging import PurgeDone, PurgePlan, plan_purge, purge
from llmbench.store.db import StoreError
from llmbench.store.schema.vocabulary import CALL_STATUSES

__all__ = [
    "ChainKeyMismatch",
    "PurgeDone",
    "PurgePlan",
    "SealPoint",
    "append_calls",
    "append_in_one_statement",
    "chain_head",
    "database_id",
    "insert_sealed",
    "plan_purge",
    "purge",
    "rows_per_statement",
    "seal_calls",
    "sealing_point",
    "verify_chain",
]

_INSERT_COLUMNS: tuple[str, ...] = (
    *METADATA_FIELDS,
    *CONTENT_FIELDS,
    *LATER_CONTENT_FIELDS,
    *LATER_METADATA_FIELDS,
    "content_hash",
    "prev_hash",
    "hash",
)
# Rows per INSERT statement: within SQLite's bound-parameter limit (32,766 since 3.32) and a
# statement size that stays cheap to prepare.
_MAX_ROWS_PER_STATEMENT = 256
_DEFAULTS: dict[str, Any] = {
    "attempt": 1,
    "provider": "",
    "params": "{}",
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cached_tokens": 0,
    "tokens_estimated": 0,
    "saving": 0.0,
    "tags": "{}",
    "guard_flags": "[]",
    "flagged": 0,
}

_DEFAULT_NAMES = tuple(_DEFAULTS)

_REQUIRED = ("ts", "request_id", "model_requested", "model", "status")
_STATUSES = frozenset(CALL_STATUSES)


def _checked(call: Mapping[str, Any]) -> dict[str, Any]:
    missing = [name for name in _REQUIRED if call.get(name) is None]
    if missing:
        raise ValueError(f"call is missing {', '.join(missing)}")
    if call["status"] not in _STATUSES:
        raise ValueError(f"unknown call status {call['status']!r}")
    # Keys that are no column stay in the copy: sealing and the row's tuple read only columns.
    row = {**_DEFAULTS, **call}
    for name in _DEFAULT_NAMES:  # a None where a column has a default is that default
        if row[name] is None:
            row[name] = _DEFAULTS[name]
    return row


def seal_calls(
    key: bytes, head: SealPoint | tuple[int, str], calls: Iterable[Mapping[str, Any]]
) -> tuple[list[tuple[Any, ...]], SealPoint]:
    """The calls as sealed rows for `insert_sealed`, ids ascending from the sealing point (a
    plain (last id, last hash) seals in form 1), and the point after them. Pure computation:
    an importer seals in another process while this one writes."""
    point = head if isinstance(head, SealPoint) else SealPoint(*head)
    last_id, prev_hash = point.last_id, point.prev_hash
    rows = []
    for call in calls:
        row = _checked(call)
        last_id += 1
        row["id"] = last_id
        prev_hash = seal(key, prev_hash, row, form=point.form, db_id=point.db_id)["hash"]
        rows.append(tuple(map(row.get, _INSERT_COLUMNS)))  # a generator costs twice as much
    return rows, point._replace(last_id=last_id, prev_hash=prev_hash)


@lru_cache(maxsize=64)
def _insert_sql(rows: int, columns: tuple[str, ...] = _INSERT_COLUMNS) -> str:
    head = "INSERT INTO calls ({}) VALUES ".format(", ".join(f"[{c}]" for c in columns))
    return head + ", ".join(["(" + ", ".join("?" for _ in columns) + ")"] * rows)


# A file migrated before m011 has no tool_calls column, before m012 no conversation columns,
# before m014 no reasoning and cache-write columns (tokens and prices).
# llmbench migrates a file before it writes to it, so only a write made as an older llmbench
# made it (the upgrade tests) meets one: its rows are inserted without the later columns it
# lacks, which they must leave empty.
_LATER_COLUMNS = (*LATER_CONTENT_FIELDS, *LATER_METADATA_FIELDS)
_missing_columns: WeakKeyDictionary[Database, tuple[str, ...]] = WeakKeyDictionary()


@lru_cache(maxsize=8)
def _older_layout(missing: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    kept = tuple(n for n, column in enumerate(_INSERT_COLUMNS) if column not in missing)
    return tuple(_INSERT_COLUMNS[n] for n in kept), kept


def _for_this_file(
    db: Database, rows: Sequence[tuple[Any, ...]]
) -> tuple[tuple[str, ...], Sequence[tuple[Any, ...]]]:
    missing = _missing_columns.get(db)
    if missing is None:
        present = {row[1] for row in db.conn.execute("PRAGMA table_info(calls)")}
        missing = _missing_columns[db] = tuple(c for c in _LATER_COLUMNS if c not in present)
    if not missing:
        return _INSERT_COLUMNS, rows
    positions = [_INSERT_COLUMNS.index(name) for name in missing]
    if any(row[position] is not None for row in rows for position in positions):
        raise StoreError(
            f"this database predates {', '.join(missing)}: open it with llmbench to migrate it"
        )
    columns, kept = _older_layout(missing)
    return columns, [tuple(row[n] for n in kept) for row in rows]


def rows_per_statement(db: Database) -> int:
    """How many sealed rows one INSERT of `insert_sealed` holds on this connection."""
    limit = db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(_MAX_ROWS_PER_STATEMENT, limit // len(_INSERT_COLUMNS)))


def insert_sealed(db: Database, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows from `seal_calls`, sealed on this database's chain head: many rows per
    statement, so that a group of calls is one statement, which lands whole or not at all
    (and one wait for the interpreter lock, where executemany waits once per row)."""
    step = rows_per_statement(db)
    columns, rows = _for_this_file(db, rows)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        db.conn.execute(_insert_sql(len(chunk), columns), list(iter_chain.from_iterable(chunk)))


def append_calls(db: Database, key: bytes, calls: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert calls in order (ids ascend with it), each sealed onto the chain in the current
    form, and return their ids. JSON columns must already be JSON text; unknown keys are
    ignored. Run inside a writer job: the write lock held by BEGIN IMMEDIATE makes the chain's
    order the insert order, across processes too. Refuses a key other than the chain's
    (ChainKeyMismatch)."""
    if not calls:
        return []
    known = _continued.get(db)
    if known is not None and known[0] == key and len(calls) <= rows_per_statement(db):
        point = known[1]
        rows, after = seal_calls(key, point, calls)
        if _insert_continuing(db, point, rows):
            _continued[db] = (key, after)
            return list(range(point.last_id + 1, after.last_id + 1))
    point = sealing_point(db, key)
    rows, after = seal_calls(key, point, calls)
    insert_sealed(db, rows)
    _continued[db] = (key, after)
    return list(range(point.last_id + 1, after.last_id + 1))


def append_in_one_statement(
    db: Database, key: bytes, calls: Sequence[Mapping[str, Any]]
) -> list[int] | None:
    """Append calls with one INSERT, outside any transaction (SQLite makes the statement its
    own and commits it), where the connection's last append left the chain: their ids, or None
    when that is not possible (no append on this connection yet, too many calls for one
    statement, the chain's end moved meanwhile), having written nothing. A `first_try` of the
    writer (`store.batches`); raises what a call's values raise."""
    known = _continued.get(db)
    if not calls or known is None or known[0] != key or len(calls) > rows_per_statement(db):
        return None
    point = known[1]
    rows, after = seal_calls(key, point, calls)
    if not _insert_continuing(db, point, rows):
        return None
    _continued[db] = (key, after)
    return list(range(point.last_id + 1, after.last_id + 1))


# Where a writer connection's last append left the chain, and the key it sealed with. Its next
# append seals on that point without first reading the chain's end (one statement fewer for a
# group of the gateway's calls, each statement a wait for the interpreter lock on a busy
# process): the INSERT itself checks that the end is still that call, as another process may
# have appended meanwhile or the batch been rolled back, and inserts nothing otherwise.
_continued: WeakKeyDictionary[Database, tuple[bytes, SealPoint]] = WeakKeyDictionary()
_STILL_THE_END = (
    " WHERE EXISTS (SELECT 1 FROM calls WHERE id = ? AND hash = ?)"
    " AND NOT EXISTS (SELECT 1 FROM calls WHERE id > ?)"
)


@lru_cache(maxsize=64)
def _continuing_sql(rows: int, columns: tuple[str, ...] = _INSERT_COLUMNS) -> str:
    head, marks = _insert_sql(rows, columns).split(" VALUES ", 1)
    return f"{head} SELECT * FROM (VALUES {marks}){_STILL_THE_END}"


def _insert_continuing(db: Database, point: SealPoint, rows: Sequence[tuple[Any, ...]]) -> bool:
    """Insert rows sealed on `point` if the chain still ends there; whether it did."""
    columns, rows = _for_this_file(db, rows)
    values = list(iter_chain.from_iterable(rows))
    values += [point.last_id, point.prev_hash, point.last_id]
    return bool(db.conn.execute(_continuing_sql(len(rows), columns), values).rowcount == len(rows))


def verify_chain(
    db: Database,
    key: bytes,
    checkpoint: tuple[int, str] | None = None,
    head: tuple[ChainHead, str] | None = None,
) -> ChainReport:
    """Walk the whole log under `key`, with the records the database holds, a checkpoint kept
    elsewhere and the head recorded beside the key (each optional)."""
    evidence = replace(chain_records.evidence(db), head=head, checkpoint=checkpoint)
    return verify_log(key, chain_records.rows(db), evidence)
