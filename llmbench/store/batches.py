"""What the store's writer thread does with a batch of queued writes, and the search-index work
it leaves for after the commit (`store.db.Store` runs both).

A batch runs in one BEGIN IMMEDIATE transaction and its futures settle once it has committed.
Ordinary batches end by indexing every call above the search index's watermark
(`store/audit/search_index.py`), so a job's calls are searchable once its future settles. A
batch made only of `index_later` jobs (the gateway's records) commits without it: the callers
it acknowledges wait for their rows, not for the full-text index, and the writer indexes those
calls just after, in a transaction of its own (`IndexBehind`).

A write alone in its batch may offer a `first_try`: one statement run outside any transaction,
which SQLite then commits by itself (synchronous=FULL, as every commit here). That is one call
into SQLite where BEGIN, the job and COMMIT are three, and on a busy process each call into
SQLite ends in a wait for the interpreter lock: most of what a durable call waits for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from llmbench.store.audit.search_index import index_pending

if TYPE_CHECKING:
    from sqlite_utils import Database


class Queued(NamedTuple):
    """A write waiting for the writer."""

    job: Callable[[Database], Any]
    future: Future[Any]
    index_later: bool = False  # its calls may be indexed after the commit
    # Tried first when the write is alone in its batch: one statement that lands whole or not
    # at all, outside any transaction, returning what the job would, or None when it cannot
    # (the job then runs in a transaction). Only for `index_later` writes.
    first_try: Callable[[Database], Any] | None = None


Outcome = tuple[Future[Any], bool, Any]  # a job's future, whether it succeeded, what it gave
# What a batch's transaction did: committed with every call indexed, committed leaving its calls
# for IndexBehind, or undone (every job failed, or the transaction did).
BatchEnd = Literal["indexed", "left to index", "undone"]
# How long the search index may stay behind committed calls while writes keep coming, and how
# long the writer waits for the next write before indexing: calls that end while a batch
# commits come within a few milliseconds of each other, and each catch-up is a transaction.
INDEX_LAG_S = 0.25
INDEX_IDLE_S = 0.02


def run_batch(
    db: Database, batch: list[Queued], explain: Callable[[BaseException], BaseException]
) -> BatchEnd:
    """Run the batch's jobs and settle their futures once they have committed (with
    `explain(error)` for a failure). A batch made only of `index_later` jobs leaves its calls
    for `IndexBehind`; any other indexes every unindexed call before committing."""
    alone = batch[0] if len(batch) == 1 else None
    if alone is not None:
        # A job whose caller cancelled it (a torn-down asyncio task awaiting it) does not run;
        # setting a result on its future would raise and end the writer thread.
        if not alone.future.set_running_or_notify_cancel():
            return "undone"
        if alone.first_try is not None and alone.index_later:
            landed = _first_try(db, alone.first_try)
            if landed is not None:
                alone.future.set_result(landed)
                return "left to index"
    return _in_a_transaction(db, batch, alone, explain)


def _first_try(db: Database, attempt: Callable[[Database], Any]) -> Any:
    """What the one statement gave, or None when it landed nothing (its reason is met again,
    and reported, by the job in its transaction)."""
    if db.conn.in_transaction:
        return None
    try:
        return attempt(db)
    except Exception:
        if db.conn.in_transaction:  # it was one statement: nothing else of it to keep
            db.conn.rollback()
        return None


def _in_a_transaction(
    db: Database,
    batch: list[Queued],
    alone: Queued | None,
    explain: Callable[[BaseException], BaseException],
) -> BatchEnd:
    outcomes: list[Outcome] = []
    index_later = all(write.index_later for write in batch)
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        if alone is not None:
            # Alone in its batch, a job is undone by the batch's rollback: no savepoint, two
            # statements fewer (each one a wait for the interpreter lock on a busy process).
            try:
                outcomes.append((alone.future, True, alone.job(db)))
            except BaseException as error:
                if db.conn.in_transaction:
                    db.conn.rollback()
                alone.future.set_exception(explain(error))
                return "undone"
        else:
            _run_jobs(db, batch, outcomes, explain)
        if not index_later:
            index_pending(db.conn)
        db.conn.execute("COMMIT")
    except BaseException as error:  # BEGIN, COMMIT or the whole batch failed: none landed
        if db.conn.in_transaction:
            db.conn.rollback()
        for write in batch:
            if not write.future.done():
                write.future.set_exception(explain(error))
        return "undone"
    for future, ok, value in outcomes:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    return "left to index" if index_later else "indexed"


def _run_jobs(
    db: Database,
    batch: list[Queued],
    outcomes: list[Outcome],
    explain: Callable[[BaseException], BaseException],
) -> None:
    """Each job in a savepoint of its own, so that one failing undoes only its own writes;
    raises when SQLite rolled the whole transaction back itself."""
    for index, (job, future, _later, _first) in enumerate(batch):
        # A job whose caller cancelled it (a torn-down asyncio task awaiting it) does not
        # run; setting a result on its future would raise and end the writer thread.
        if not future.set_running_or_notify_cancel():
            continue
        savepoint = f"job_{index}"
        db.conn.execute(f"SAVEPOINT {savepoint}")
        try:
            outcomes.append((future, True, job(db)))
        except BaseException as error:  # the job failed: undo only its own writes
            if not db.conn.in_transaction:
                # SQLite rolled the whole batch back itself (SQLITE_FULL, IOERR...): no
                # later job may run outside the transaction, none of it landed.
                raise
            db.conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            outcomes.append((future, False, explain(error)))
        finally:
            if db.conn.in_transaction:
                db.conn.execute(f"RELEASE SAVEPOINT {savepoint}")


class IndexBehind:
    """The writer's search-index debt: calls committed by `index_later` batches and not indexed
    yet. It is paid in a transaction of its own, on a second connection whose commits skip the
    fsync (synchronous=NORMAL): the index is derived from rows already on disk, and power lost
    before the next fsync only leaves calls for the next open to index."""

    def __init__(self, path: Path, connect: Callable[[Path], Database]) -> None:
        self.path = path
        self._connect = connect
        self.since: float | None = None  # when the oldest unindexed batch committed
        self._retry_at = 0.0  # after a failed catch-up, not before this
        self._db: Database | None = None

    def wait_s(self) -> float | None:
        """How long the writer may wait for its next write before indexing the calls left
        (None: nothing left, wait as long as it takes; 0: index them now)."""
        if self.since is None:
            return None
        now = time.monotonic()
        return max(0.0, self._retry_at - now, min(INDEX_IDLE_S, self.since + INDEX_LAG_S - now))

    def left_behind(self) -> None:
        if self.since is None:
            self.since = time.monotonic()

    def caught_up(self) -> None:
        """An ordinary batch indexed every call in its own commit."""
        self.since = None

    def catch_up(self) -> None:
        """Index what the batches left. On failure (a full disk...) try again a lag later; an
        ordinary batch may index them meanwhile, and the next open does at the latest."""
        try:
            if self._db is None:
                self._db = self._connect(self.path)
                self._db.conn.execute("PRAGMA synchronous = NORMAL")
            conn = self._db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                index_pending(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
        except Exception:
            self._retry_at = time.monotonic() + INDEX_LAG_S
            return
        self.since = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
