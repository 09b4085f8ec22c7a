"""Bulk writes to the audit log (`calls`) for demo data and imports, plus a few readers.

Calls written here are not sealed onto the audit hash chain (content_hash/prev_hash/hash stay
NULL); the gateway's own path seals each call it records. Run inside a writer job.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from llmbench.store.migrations import CALL_STATUSES

CALL_COLUMNS: tuple[str, ...] = (
    "ts",
    "request_id",
    "attempt",
    "model_requested",
    "model",
    "provider",
    "prompt_version_id",
    "run_id",
    "messages",
    "params",
    "response",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "tokens_estimated",
    "cost",
    "input_price",
    "output_price",
    "cached_price",
    "saving",
    "latency_ms",
    "ttft_ms",
    "status",
    "error_kind",
    "error",
    "feature",
    "team",
    "customer",
    "task_type",
    "user",
    "arm",
    "tags",
    "guard_flags",
    "flagged",
)
REQUIRED_COLUMNS = ("ts", "request_id", "model_requested", "model", "status")
CALL_DEFAULTS: dict[str, Any] = {
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
_INSERT_SQL = "INSERT INTO calls (id, {}) VALUES (?, {})".format(
    ", ".join(f"[{c}]" for c in CALL_COLUMNS), ", ".join("?" for _ in CALL_COLUMNS)
)
_STATUSES = frozenset(CALL_STATUSES)
_FTS_INSERT_TRIGGER = "calls_fts_insert"


def next_call_id(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM calls").fetchone()[0])


def _row(call_id: int, call: Mapping[str, Any]) -> tuple[Any, ...]:
    missing = [name for name in REQUIRED_COLUMNS if call.get(name) is None]
    if missing:
        raise ValueError(f"call is missing {', '.join(missing)}")
    if call["status"] not in _STATUSES:
        raise ValueError(f"unknown call status {call['status']!r}")
    values = [call_id]
    for column in CALL_COLUMNS:
        value = call.get(column)
        values.append(CALL_DEFAULTS.get(column) if value is None else value)
    return tuple(values)


def insert_calls(db: Database, calls: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append calls in the given order (ids ascend with it) and return their ids.

    Values are stored as given: JSON columns (messages, params, tags, guard_flags) must already
    be JSON text. Unknown keys are ignored.
    """
    first = next_call_id(db)
    rows = [_row(first + offset, call) for offset, call in enumerate(calls)]
    db.conn.executemany(_INSERT_SQL, rows)
    return list(range(first, first + len(rows)))


@contextmanager
def deferred_search_index(db: Database) -> Iterator[None]:
    """Index the calls inserted inside the block in one statement at its end, not row by row.

    The per-row FTS trigger costs about ten times more than one INSERT ... SELECT over the
    same rows. The trigger is dropped and restored inside the caller's transaction, so a
    rollback restores it too. Use it only inside a writer job.
    """
    if not db.conn.in_transaction:
        raise RuntimeError("deferred_search_index needs an open transaction (a writer job)")
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [_FTS_INSERT_TRIGGER]
    ).fetchone()
    if row is None:
        raise RuntimeError(f"the {_FTS_INSERT_TRIGGER} trigger is missing")
    first_id = next_call_id(db)
    db.execute(f"DROP TRIGGER {_FTS_INSERT_TRIGGER}")
    try:
        yield
    finally:
        db.execute(
            "INSERT INTO calls_fts (rowid, messages, response)"
            " SELECT id, messages, response FROM calls WHERE id >= ?",
            [first_id],
        )
        db.execute(row[0])


def count_calls(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])


def call_window(db: Database) -> tuple[str | None, str | None, float]:
    """First and last call time and the total cost of the audit log."""
    first, last, cost = db.execute(
        "SELECT min(ts), max(ts), coalesce(sum(cost), 0) FROM calls"
    ).fetchone()
    return first, last, float(cost)


def call_ids_by_request(db: Database, request_ids: Sequence[str]) -> dict[tuple[str, int], int]:
    """(request_id, attempt) -> call id, for the given requests."""
    found: dict[tuple[str, int], int] = {}
    for start in range(0, len(request_ids), 500):
        chunk = list(request_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(
            f"SELECT request_id, attempt, id FROM calls WHERE request_id IN ({marks})", chunk
        ):
            found[(row[0], row[1])] = row[2]
    return found
