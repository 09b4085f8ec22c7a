"""Readers of the audit log (`calls`) and fast bulk indexing. Appending calls, always sealed
onto the hash chain, is `store.audit.append_calls`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlite_utils import Database

_FTS_INSERT_TRIGGER = "calls_fts_insert"


def next_call_id(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM calls").fetchone()[0])


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
