"""Readers of the audit log (`calls`) and fast bulk indexing. Appending calls, always sealed
onto the hash chain, is `store.audit.append_calls`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlite_utils import Database

from llmbench.store.audit.search_index import index_pending


def next_call_id(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM calls").fetchone()[0])


@contextmanager
def deferred_search_index(db: Database) -> Iterator[None]:
    """Index the calls inserted inside the block in one statement at its end, not row by row
    (`search_index.index_pending`). Use it only inside a writer job."""
    if not db.conn.in_transaction:
        raise RuntimeError("deferred_search_index needs an open transaction (a writer job)")
    yield
    index_pending(db.conn)


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
