"""Appending a group of calls in one writer job, as forgiving as one job per call.

The gateway's recorder hands the writer every call that ended while the previous batch was
committing (group commit). Sealing them in one append costs ~40% less than one job each; a
call refused for a reason of its own (a malformed or out-of-range value) must still fail alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from llmbench.store.audit.log import append_calls, rows_per_statement


def append_each(
    db: Database, key: bytes, calls: Sequence[Mapping[str, Any]]
) -> list[int | Exception]:
    """Seal and insert `calls` in order inside the current writer job: each call's id, or the
    error that refused that call alone. All in one append first; if that fails, each call on
    its own. An error of the file rather than of a call (disk full, read-only, I/O: SQLite's
    OperationalError) is raised, and none of the group lands (the job is undone)."""
    conn = db.conn
    # A group that fits one INSERT lands whole or not at all without a savepoint: one
    # statement fewer per batch, one wait fewer for the writer on a busy interpreter. What the
    # sealing may have written before it (the form record, on first use) stays either way.
    guarded = len(calls) > rows_per_statement(db)
    if guarded:
        conn.execute("SAVEPOINT group_append")
    try:
        ids: list[int | Exception] = list(append_calls(db, key, calls))
    except Exception as error:
        if isinstance(error, sqlite3.OperationalError) or not conn.in_transaction:
            raise
        if guarded:
            conn.execute("ROLLBACK TO SAVEPOINT group_append")
            conn.execute("RELEASE SAVEPOINT group_append")
        if len(calls) == 1:
            raise
        return [_alone(db, key, call) for call in calls]
    # Left open: the writer's commit (or the job's savepoint's release) releases it too.
    return ids


def _alone(db: Database, key: bytes, call: Mapping[str, Any]) -> int | Exception:
    conn = db.conn
    conn.execute("SAVEPOINT one_append")
    try:
        (call_id,) = append_calls(db, key, [call])
    except Exception as error:
        if isinstance(error, sqlite3.OperationalError) or not conn.in_transaction:
            raise
        conn.execute("ROLLBACK TO SAVEPOINT one_append")
        return error
    finally:
        if conn.in_transaction:
            conn.execute("RELEASE SAVEPOINT one_append")
    return call_id
