"""Stopping one read from another thread: a pane that is left stops the queries it started.

SQLite's `sqlite3_interrupt` (Python's `Connection.interrupt()`, safe from any thread) makes
the statement the connection runs at that moment fail with "interrupted". A read may be between
statements then (in Python, or still importing what it needs), so a stopped read also has each
statement it starts afterwards interrupted as it begins (a trace callback: one Python call per
statement, none per row). A reader's connection belongs to its thread and is reused by that
thread's next read (thread workers run in a pool), so a `ReadInterrupt` lasts one read: once
that read has `ended`, the connection is left as it was and a late `interrupt()` does nothing
(SQLite forgets an interrupt that lands on an idle connection as the next statement starts).
A read only reads: an interrupted one leaves nothing behind, its caller drops it and reads
again when the data is wanted.

The store keeps the reads under way (`ReadsInFlight`): closing it (the app quitting, a test's
end) stops them and waits for them to end before it closes their connections, as SQLite frees
a connection closed under a running statement while that statement still uses it (a crash).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmbench.store.db import Store


class ReadInterrupt:
    """The handle of one read on the calling thread's connection of a store. Made and ended
    by the reading thread; `interrupt` from any thread."""

    def __init__(self, store: Store) -> None:
        connection = store.connection()
        self._connection: sqlite3.Connection | None = connection
        self._stopped = False
        self._lock = threading.Lock()
        self._in_flight = store.reads_in_flight
        connection.set_trace_callback(self._statement_starts)
        self._in_flight.started(self, connection)

    def _statement_starts(self, _sql: str) -> None:
        if self._stopped and self._connection is not None:
            self._connection.interrupt()

    def interrupt(self) -> None:
        """Stop the read: its running statement and every one it starts from now on."""
        with self._lock:
            self._stopped = True
            if self._connection is not None:
                self._connection.interrupt()

    def ended(self) -> None:
        """The read is over: the connection is left as it was, later interrupts do nothing."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.set_trace_callback(None)
            if connection.in_transaction:
                # A read stopped inside its read transaction: the COMMIT that would have closed
                # it was interrupted too. Left open, it would hold this thread's connection on
                # that old snapshot, and every later read in the thread would show data from
                # before any write since. A read wrote nothing: rolling back loses nothing.
                connection.rollback()
            self._in_flight.ended(self)


class ReadsInFlight:
    """The reads running on one store's connections, each with its connection."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._reads: dict[ReadInterrupt, sqlite3.Connection] = {}

    def started(self, read: ReadInterrupt, connection: sqlite3.Connection) -> None:
        with self._changed:
            self._reads[read] = connection

    def ended(self, read: ReadInterrupt) -> None:
        with self._changed:
            self._reads.pop(read, None)
            self._changed.notify_all()

    def stop_all(self, timeout_s: float) -> set[sqlite3.Connection]:
        """Interrupt every read under way and wait (`timeout_s` at most) for them to end; the
        connections of those still running then, which must not be closed."""
        with self._changed:
            for read in list(self._reads):
                read.interrupt()
            self._changed.wait_for(lambda: not self._reads, timeout_s)
            return set(self._reads.values())
