"""The calls' full-text index (`calls_fts`), kept by the store's writer instead of a per-row
trigger, so that indexing is never what an acknowledged call waits for.

Every call with an id at or below the watermark (`meta.search_indexed_through`) is in the
index, none above it is. `index_pending` indexes the calls above it in one `INSERT … SELECT`
and moves it up, in the caller's transaction: the writer runs it at the end of every batch of
ordinary jobs (so a job's calls are searchable once `Store.write` returns), and for the
gateway's calls in a transaction of its own just after the batch that acknowledged them
(`Store.submit(job, index_later=True)`). A process killed between the two leaves calls above
the watermark: the next open indexes them (`store.db.migrate`). The delete and update
triggers touch the index only for calls at or below the watermark, since the others are not
in it yet (an FTS5 'delete' of a row that was never indexed would damage the index).

Only the standard library here: the writer in `store/db.py` imports it.
"""

from __future__ import annotations

import sqlite3

WATERMARK_KEY = "search_indexed_through"

# The highest id the index holds, as an integer (NULL while the meta row is missing).
WATERMARK_SQL = f"(SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{WATERMARK_KEY}')"

# Since m013 the index holds the calls' tool calls (names and arguments) too.
_INDEX_SQL = (
    "INSERT INTO calls_fts (rowid, messages, response, tool_calls)"
    f" SELECT id, messages, response, tool_calls FROM calls WHERE id > {WATERMARK_SQL}"
)
# The index of a file not migrated to m013 yet (a store opened on an older schema, as the
# migrations' tests do): its two columns.
_INDEX_BEFORE_M013_SQL = (
    "INSERT INTO calls_fts (rowid, messages, response)"
    f" SELECT id, messages, response FROM calls WHERE id > {WATERMARK_SQL}"
)
# Moved only when it changes, so a batch with no new calls writes no page for it.
_ADVANCE_SQL = (
    "UPDATE meta SET value = (SELECT max(id) FROM calls)"
    f" WHERE key = '{WATERMARK_KEY}' AND (SELECT max(id) FROM calls) > CAST(value AS INTEGER)"
)
_PENDING_SQL = f"SELECT (SELECT max(id) FROM calls) > {WATERMARK_SQL}"


def index_pending(conn: sqlite3.Connection) -> int:
    """Index every call above the watermark and move it to the last call; how many were
    indexed. Inside the caller's write transaction (the writer's batch, or a migration)."""
    try:
        indexed = conn.execute(_INDEX_SQL).rowcount
    except sqlite3.OperationalError as error:
        if "tool_calls" not in str(error):
            raise
        indexed = conn.execute(_INDEX_BEFORE_M013_SQL).rowcount
    if indexed > 0:
        conn.execute(_ADVANCE_SQL)
    return max(indexed, 0)


def has_pending(conn: sqlite3.Connection) -> bool:
    """Whether some call is not in the index yet (False for a file without the watermark,
    from before the writer kept the index)."""
    row = conn.execute(_PENDING_SQL).fetchone()
    return bool(row and row[0])


def indexed_through(conn: sqlite3.Connection) -> int | None:
    row = conn.execute(WATERMARK_SQL.removeprefix("(").removesuffix(")")).fetchone()
    return None if row is None or row[0] is None else int(row[0])
