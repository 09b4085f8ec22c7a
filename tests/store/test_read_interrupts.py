"""A read stopped from another thread (store/interrupts.py), on a real SQLite file: the running
statement ends at once, every later statement of that read too, and the connection's next read
(its thread's, in a pool) runs as if nothing had happened."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llmbench.store.db import Store, open_db
from llmbench.store.interrupts import ReadInterrupt

# A query that runs for minutes unless stopped: counting to ten billion in a recursive CTE.
ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_db(tmp_path / "bench.db")
    yield opened
    opened.close()


def test_the_running_statement_stops_at_once(store: Store) -> None:
    started = threading.Event()
    handles: list[ReadInterrupt] = []

    def read() -> float:
        handles.append(ReadInterrupt(store))
        started.set()
        began = time.perf_counter()
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            store.connection().execute(ENDLESS).fetchone()
        return time.perf_counter() - began

    with ThreadPoolExecutor(1) as pool:
        ran = pool.submit(read)
        assert started.wait(5)
        time.sleep(0.05)  # inside the query by now
        handles[0].interrupt()
        assert ran.result(timeout=10) < 5


def test_statements_after_the_stop_are_stopped_too_and_the_next_read_runs(store: Store) -> None:
    """A read stopped between two statements (in Python, importing) cannot go on querying;
    once it has ended, the same thread's next read, and a late interrupt, are unaffected."""
    with ThreadPoolExecutor(1) as pool:  # one thread: both reads share its connection
        first = pool.submit(ReadInterrupt, store).result()
        first.interrupt()  # no statement is running

        def rest_of_first_read() -> str:
            try:
                store.connection().execute("SELECT count(*) FROM calls").fetchone()
            except sqlite3.OperationalError as error:
                return str(error)
            finally:
                first.ended()
            return "ran"

        assert pool.submit(rest_of_first_read).result() == "interrupted"
        first.interrupt()  # late: the read has ended

        def second_read() -> int:
            handle = ReadInterrupt(store)
            try:
                return int(store.read().execute("SELECT count(*) FROM calls").fetchone()[0])
            finally:
                handle.ended()

        assert pool.submit(second_read).result() == 0


def test_closing_the_store_stops_the_reads_under_way_before_closing_their_connections(
    tmp_path: Path,
) -> None:
    """Closing a connection under a running statement frees it while SQLite still uses it (the
    process crashes): close interrupts the read, waits for it to end, then closes."""
    store = open_db(tmp_path / "closing.db")
    started = threading.Event()

    def read() -> str:
        handle = ReadInterrupt(store)
        started.set()
        try:
            store.connection().execute(ENDLESS).fetchone()
        except sqlite3.OperationalError as error:
            time.sleep(0.2)  # the read's own Python after its statement stopped
            return str(error)
        finally:
            handle.ended()
        return "finished"

    with ThreadPoolExecutor(1) as pool:
        ran = pool.submit(read)
        assert started.wait(5)
        time.sleep(0.05)
        began = time.perf_counter()
        store.close()
        closed_after = time.perf_counter() - began
        assert ran.result(timeout=10) == "interrupted"
    assert 0.2 <= closed_after < 5  # it waited for the read to end, not for the query


def test_a_read_that_does_not_end_keeps_its_connection_open_and_close_still_returns(
    tmp_path: Path,
) -> None:
    store = open_db(tmp_path / "stuck.db")
    release = threading.Event()

    def read() -> int:
        handle = ReadInterrupt(store)
        connection = store.connection()
        release.wait(10)  # a read busy in Python past the close's wait
        try:
            return int(connection.execute("SELECT 41 + 1").fetchone()[0])
        except sqlite3.OperationalError:
            return -1  # stopped: a statement begun after the interrupt is interrupted too
        finally:
            handle.ended()

    with ThreadPoolExecutor(1) as pool:
        ran = pool.submit(read)
        time.sleep(0.05)
        began = time.perf_counter()
        store.close()
        assert time.perf_counter() - began < 5
        release.set()
        assert ran.result(timeout=10) == -1  # its connection was not closed under it


def test_a_read_stopped_inside_its_transaction_leaves_the_next_read_seeing_new_writes(
    store: Store,
) -> None:
    """A stopped read's COMMIT is interrupted like its other statements: its thread's connection
    must not stay on the read's old snapshot (F5's budget deleted, and still listed)."""
    store.write(lambda db: db.execute("CREATE TABLE notes (text TEXT)"))
    store.write(lambda db: db.execute("INSERT INTO notes VALUES ('old')"))
    pool = ThreadPoolExecutor(max_workers=1)  # one thread: the next read reuses its connection

    def stopped_read() -> None:
        handle = ReadInterrupt(store)
        connection = store.connection()
        try:
            connection.execute("BEGIN")  # as store.costs.breakdowns.snapshot does
            try:
                connection.execute("SELECT count(*) FROM notes").fetchone()
                handle.interrupt()  # the pane was left
                connection.execute(ENDLESS).fetchone()
            finally:
                with pytest.raises(sqlite3.OperationalError, match="interrupted"):
                    connection.execute("COMMIT")
        except sqlite3.OperationalError:
            pass
        finally:
            handle.ended()

    def next_read() -> list[str]:
        handle = ReadInterrupt(store)
        try:
            rows = store.connection().execute("SELECT text FROM notes ORDER BY rowid")
            return [row[0] for row in rows.fetchall()]
        finally:
            handle.ended()

    try:
        pool.submit(stopped_read).result(timeout=30)
        store.write(lambda db: db.execute("INSERT INTO notes VALUES ('new')"))
        assert pool.submit(next_read).result(timeout=30) == ["old", "new"]
        assert not pool.submit(lambda: store.connection().in_transaction).result(timeout=30)
    finally:
        pool.shutdown()
