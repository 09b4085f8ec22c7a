"""Loading a great many calls into a file no one else is writing (the demo's build): the calls'
indexes and the rollups' insert triggers set aside while the rows go in, then the indexes built
once, the daily rollups summed in one GROUP BY per table and the full-text index in one pass.

Keeping twelve indexes, three rollup rows and the triggers' two statements each up to date row
by row is most of what an insert costs; building them once at the end is a sort per index and
a scan per rollup table. Everything happens in the caller's write transaction (a writer job):
the triggers and indexes are put back from the very SQL they were created with, so a failure
rolls back to the file as it was and a success leaves the schema as it was.

`private_file` is the connection such a load is written through when the file is new and no one
else can see it yet (the demo's build, renamed onto its target once complete): its one
transaction keeps its rollback journal in memory and skips the fsyncs, which the write-ahead log
would otherwise make it pay for twice (every page written to the -wal, then copied into the file
by the checkpoint); the file is synced once, whole, when the load ends.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.store.audit.search_index import index_pending
from llmbench.store.db import connect
from llmbench.store.schema.reasoning_cache_tokens import ROLLUP_SUMS_M014
from llmbench.store.schema.rollups import ROLLUP_TABLES

if TYPE_CHECKING:
    from sqlite_utils import Database

# The page cache while loading (negative: KiB), which also bounds each index build's in-memory
# sort: rows are appended at the end of the table, so a larger cache buys little.
BULK_CACHE_KIB = -16384
# FTS5 writes the terms it holds in memory as a new segment of the index whenever they pass
# its `hashsize`, and merges segments as they pile up. Indexing a whole demo's text with 16 MB
# of terms per segment rather than the default 1 MB costs a third less (100,000 calls: 1.45 s
# of CPU against 0.95 s), for 16 MB more memory while it runs.
FTS_BULK_HASH_BYTES = 16 * 1024 * 1024
FTS_DEFAULT_HASH_BYTES = 1024 * 1024  # FTS5's own default
# The triggers that add an inserted call to its rollup rows (m014's, named by m004).
ROLLUP_INSERT_TRIGGERS = tuple(f"{table}_insert" for table in ROLLUP_TABLES)


@contextmanager
def private_file(path: Path) -> Iterator[Database]:
    """A write connection to a migrated file no other connection has open, inside one
    transaction, committed when the block ends (rolled back by an exception, after which the
    caller deletes the file: it was never anyone else's). While it is open the file has no
    write-ahead log: the rollback journal is held in memory, and only covers the few pages the
    file had before (a new page needs none); nothing is synced, and freed pages (FTS5's merged
    segments) are not zeroed, as no purged body can be among them. On success the file is put
    back in WAL mode, as the store opens every file, and synced to disk before the caller
    renames it into place."""
    db = connect(path)
    conn = db.conn
    try:
        conn.isolation_level = None  # the transaction is this block's, begun explicitly
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA secure_delete = OFF")
        # Without the WAL the pages read back (the counts at the end) come from the file
        # itself, which the store's memory map would make the process's own: gigabytes.
        conn.execute("PRAGMA mmap_size = 0")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    _sync(path)


def _sync(path: Path) -> None:
    """The file's pages on disk (its commit skipped the fsync)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def bulk_calls(db: Database) -> Iterator[None]:
    """Around inserting many calls inside one writer job: on leaving, the indexes on `calls`,
    the rollups and the search index hold every call, as if each had been inserted alone. An
    exception leaves them set aside (the writer rolls the job back, which restores them)."""
    conn = db.conn
    if not conn.in_transaction:
        raise RuntimeError("bulk_calls needs an open transaction (a writer job)")
    names = ", ".join(f"'{name}'" for name in ROLLUP_INSERT_TRIGGERS)
    set_aside = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'calls' AND sql IS NOT NULL"
        f" AND (type = 'index' OR (type = 'trigger' AND name IN ({names}))) ORDER BY rowid"
    ).fetchall()
    for kind, name, _sql in set_aside:
        conn.execute(f"DROP {kind.upper()} [{name}]")
    with _bounded_memory(conn):
        yield
        for kind, _name, sql in set_aside:
            if kind == "index":
                conn.execute(sql)
        recompute_rollups(db)
        for kind, _name, sql in set_aside:
            if kind == "trigger":
                conn.execute(sql)
        _index_in_large_segments(conn)


def _index_in_large_segments(conn: sqlite3.Connection) -> None:
    """Index every call above the watermark with a large `hashsize`, then put FTS5's default
    back and remove the setting's row from its config table, so the file holds what it held
    (and later writes to it flush at the default size)."""
    config = "INSERT INTO calls_fts (calls_fts, rank) VALUES ('hashsize', ?)"
    conn.execute(config, (FTS_BULK_HASH_BYTES,))
    index_pending(conn)
    conn.execute(config, (FTS_DEFAULT_HASH_BYTES,))
    conn.execute("DELETE FROM calls_fts_config WHERE k = 'hashsize'")


@contextmanager
def _bounded_memory(conn: sqlite3.Connection) -> Iterator[None]:
    """The index builds' sorts spill to temporary files rather than memory (the store keeps
    temporary data in memory: a sort of ten million keys would hold them all), no part of the
    file is mapped into memory (the store maps 256 MB, which counts as the process's own once
    touched) and the page cache is smaller; all put back as they were."""
    temp_store = conn.execute("PRAGMA temp_store").fetchone()[0]
    mmap_size = conn.execute("PRAGMA mmap_size").fetchone()[0]
    cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute("PRAGMA temp_store = FILE")
    conn.execute("PRAGMA mmap_size = 0")
    conn.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA temp_store = {int(temp_store)}")
        conn.execute(f"PRAGMA mmap_size = {int(mmap_size)}")
        conn.execute(f"PRAGMA cache_size = {int(cache_size)}")


def rollup_sql(table: str) -> str:
    """The rollup table's rows summed from every call: the sums its insert trigger keeps."""
    keys = ROLLUP_TABLES[table]
    key_columns = ", ".join(f"[{key}]" for key in keys)
    names = ", ".join(name for name, _ in ROLLUP_SUMS_M014)
    sums = ", ".join(
        "count(*)" if name == "calls" else f"sum({value.format(row='calls')})"
        for name, value in ROLLUP_SUMS_M014
    )
    # The sums of REAL columns may differ from the triggers' in the last bit: SQLite adds a
    # group's costs in its scan order, the triggers in insert order.
    return (
        f"INSERT INTO {table} (day, {key_columns}, {names})"
        f" SELECT substr(ts, 1, 10), {key_columns}, {sums}"
        f" FROM calls GROUP BY substr(ts, 1, 10), {key_columns}"
    )


def recompute_rollups(db: Database) -> None:
    """Every rollup table summed again from `calls`, in the caller's transaction."""
    for table in ROLLUP_TABLES:
        db.conn.execute(f"DELETE FROM {table}")
        db.conn.execute(rollup_sql(table))
