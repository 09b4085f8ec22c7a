"""The calls' search index kept by the writer: acknowledged before indexing, indexed at once
after, never left incomplete by a crash, and sound under purges of calls not indexed yet.

Every test runs on real SQLite files; the crash is a real SIGKILL of a child process at the
moment between the commit that acknowledged its calls and their indexing.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store import batches
from llmbench.store.audit import search_index
from llmbench.store.audit.log import (
    append_calls,
    chain_head,
    database_id,
    insert_sealed,
    plan_purge,
    purge,
    seal_calls,
    verify_chain,
)
from llmbench.store.db import KNOWN_MIGRATIONS, Store, connect, open_db
from llmbench.store.schema import search_index as search_index_step
from llmbench.store.schema.migrations import migrations
from tests.store.purge_window import open_purge_window

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_S = 60


def _call(n: int, word: str, ts: str = "2026-03-01T10:00:00.000Z") -> dict[str, object]:
    return {
        "ts": ts,
        "request_id": f"r-{word}-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"{word} question {n}"}]),
        "response": f"{word} answer {n}",
    }


def _matches(conn: sqlite3.Connection, word: str) -> int:
    query = "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?"
    return int(conn.execute(query, [word]).fetchone()[0])


def _assert_index_equals_the_calls(conn: sqlite3.Connection) -> None:
    """FTS5's own check, against the content of `calls` (rank 1): raises on any difference.
    Written as an INSERT, which opens a transaction on this reader: ended at once."""
    try:
        conn.execute("INSERT INTO calls_fts (calls_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.rollback()


def _raw(path: Path) -> sqlite3.Connection:
    """A plain connection to the file, without llmbench's opening (which would index)."""
    return sqlite3.connect(path)


def test_recorded_calls_are_acknowledged_before_they_are_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    index = batches.index_pending

    def held_back(conn: sqlite3.Connection) -> int:
        release.wait(10)
        return index(conn)

    monkeypatch.setattr(batches, "index_pending", held_back)
    with open_db(tmp_path / "ack.db") as store:
        key = load_chain_key(database_id(store.read()))
        calls = [_call(n, "kumquat") for n in range(5)]
        ids = store.submit(lambda db: append_calls(db, key, calls), index_later=True).result(10)
        # Acknowledged: committed, while the writer is still held before indexing them.
        reader = store.read().conn
        assert reader.execute("SELECT count(*) FROM calls").fetchone()[0] == 5
        assert _matches(reader, "kumquat") == 0
        assert search_index.indexed_through(reader) == 0
        release.set()
        assert store.index_now()
        assert _matches(store.read().conn, "kumquat") == 5
        assert search_index.indexed_through(store.read().conn) == ids[-1]
        _assert_index_equals_the_calls(store.read().conn)


def test_the_writer_indexes_recorded_calls_once_it_is_idle(tmp_path: Path) -> None:
    with open_db(tmp_path / "idle.db") as store:
        key = load_chain_key(database_id(store.read()))
        for n in range(3):
            job: Callable[..., list[int]] = lambda db, n=n: append_calls(  # noqa: E731
                db, key, [_call(n, "quince")]
            )
            store.submit(job, index_later=True).result(10)
        # No write is queued after them: the writer indexes them without being asked.
        deadline = 200
        while _matches(store.read().conn, "quince") < 3 and deadline:
            threading.Event().wait(0.01)
            deadline -= 1
        assert _matches(store.read().conn, "quince") == 3


def test_an_ordinary_write_also_indexes_calls_recorded_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls an index_later batch left are indexed by the next ordinary batch's commit, so
    `Store.write` never returns with part of the log unsearchable."""
    monkeypatch.setattr(batches.IndexBehind, "wait_s", lambda self: None)  # never on its own
    with open_db(tmp_path / "mixed.db") as store:
        key = load_chain_key(database_id(store.read()))
        recorded = [_call(n, "medlar") for n in range(4)]
        store.submit(lambda db: append_calls(db, key, recorded), index_later=True).result(10)
        assert _matches(store.read().conn, "medlar") == 0
        store.write(lambda db: append_calls(db, key, [_call(9, "loquat")]))
        assert (_matches(store.read().conn, "medlar"), _matches(store.read().conn, "loquat")) == (
            4,
            1,
        )
        _assert_index_equals_the_calls(store.read().conn)


def test_calls_a_killed_writer_left_unindexed_are_indexed_on_the_next_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "killed.db"
    done = subprocess.run(
        [sys.executable, "-m", "tests.store.index_crash_child", str(path), "40"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    acknowledged = json.loads(done.stdout)
    assert len(acknowledged) == 40

    # The state the kill left: every acknowledged call on disk, none of them in the index.
    raw = _raw(path)
    try:
        assert [row[0] for row in raw.execute("SELECT id FROM calls ORDER BY id")] == acknowledged
        assert _matches(raw, "kumquat") == 0
        assert search_index.indexed_through(raw) == 0
    finally:
        raw.close()

    with open_db(path) as store:
        reader = store.read().conn
        assert _matches(reader, "kumquat") == 40
        assert search_index.indexed_through(reader) == acknowledged[-1]
        _assert_index_equals_the_calls(reader)
        key = load_chain_key(database_id(store.read()))
        assert verify_chain(store.read(), key).ok


def _unindexed_calls(path: Path, key: bytes, calls: list[dict[str, object]]) -> None:
    """Append sealed calls the way a writer killed before indexing them leaves them: committed
    by a plain connection, with the watermark where it was."""
    db = connect(path)
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        rows, _after = seal_calls(key, chain_head(db), calls)
        insert_sealed(db, rows)
        db.conn.execute("COMMIT")
    finally:
        db.close()


def test_purging_calls_not_indexed_yet_keeps_the_index_sound(tmp_path: Path) -> None:
    path = tmp_path / "purge.db"
    with open_db(path) as store:
        key = load_chain_key(database_id(store.read()))
        first = [_call(n, "damson", ts=f"2020-01-0{n + 1}T00:00:00.000Z") for n in range(2)]
        kept = [_call(n, "damson", ts=f"2026-01-0{n + 1}T00:00:00.000Z") for n in range(3)]
        store.write(lambda db: append_calls(db, key, first + kept))  # ids 1-5: indexed
        _unindexed_calls(
            path,
            key,
            [_call(n, "sloe", ts=f"2020-02-0{n + 1}T00:00:00.000Z") for n in range(3)]  # 6-8
            + [_call(n, "quince", ts=f"2026-02-0{n + 1}T00:00:00.000Z") for n in range(3)],
        )
        assert _matches(store.read().conn, "sloe OR quince") == 0
        # Deletes ids 1-2 (in the index) and empties 6-8 (not in it yet); the batch then
        # indexes what is left of 6-11.
        plan = store.write(
            lambda db: plan_purge(db, "2020-01-15T00:00:00.000Z", "2021-01-01T00:00:00.000Z")
        )
        assert (plan.to_delete, plan.to_redact) == (2, 3)
        store.write(lambda db: purge(db, key, plan, "test"))
        reader = store.read().conn
        assert _matches(reader, "sloe") == 0
        assert (_matches(reader, "damson"), _matches(reader, "quince")) == (3, 3)
        _assert_index_equals_the_calls(reader)
        store.write(lambda db: append_calls(db, key, [_call(7, "sloe")]))
        assert _matches(store.read().conn, "sloe") == 1
        assert search_index.indexed_through(store.read().conn) == 12
        _assert_index_equals_the_calls(store.read().conn)


def test_changing_calls_not_indexed_yet_leaves_the_index_sound(tmp_path: Path) -> None:
    """An FTS5 'delete' of a row the index never held damages it: the delete and update
    triggers skip calls above the watermark, which the batch then indexes as they are."""
    path = tmp_path / "tail.db"
    with open_db(path) as store:
        key = load_chain_key(database_id(store.read()))
        store.write(lambda db: append_calls(db, key, [_call(n, "damson") for n in range(3)]))
        _unindexed_calls(path, key, [_call(n, "sloe") for n in range(3)])  # ids 4-6

        def change_the_tail(db: Any) -> None:
            open_purge_window(db, "test")
            db.execute("DELETE FROM calls WHERE id >= 5")
            db.execute("UPDATE calls SET response = 'medlar answer' WHERE id = 4")
            db.execute("DELETE FROM purge_window")

        store.write(change_the_tail)
        reader = store.read().conn
        assert (_matches(reader, "question"), _matches(reader, "medlar")) == (4, 1)
        assert _matches(reader, "sloe") == 1  # id 4's messages
        _assert_index_equals_the_calls(reader)


# An entry for no call: a mark only the index built before the migration holds.
_GHOST = "INSERT INTO calls_fts (rowid, messages, response) VALUES (1000000, 'ghostmark', '')"
_GHOST_GONE = (
    "INSERT INTO calls_fts (calls_fts, rowid, messages, response)"
    " VALUES ('delete', 1000000, 'ghostmark', '')"
)


@pytest.mark.parametrize("in_place", [True, False], ids=["declaration-rewritten", "rebuilt"])
def test_the_migration_declares_and_fills_the_index_of_an_older_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> None:
    """The declaration's text is rewritten in place; where SQLite refuses to edit its schema
    (defensive mode), the index is dropped and filled again."""
    if not in_place:
        monkeypatch.setattr(search_index_step, "redeclared_in_place", lambda conn: False)
    path = tmp_path / "m008.db"
    path.touch(mode=0o600)
    db = connect(path)
    db.execute("PRAGMA application_id = 1280068930")
    migrations.apply(db, stop_before="m009_search_index_kept_by_the_writer")
    db.close()
    older = Store(path)  # the schema of m008, indexed by its insert trigger
    key = load_chain_key(database_id(older.read()))
    older.write(lambda db: append_calls(db, key, [_call(n, "persimmon") for n in range(50)]))
    declared = older.read().execute("SELECT sql FROM sqlite_master WHERE name = 'calls_fts'")
    assert "content='calls'" in declared.fetchone()[0]
    # A mark only the old index holds (an entry for no call): kept when it is kept.
    older.write(lambda db: db.execute(_GHOST))
    older.close()
    db = connect(path)
    migrations.apply(db, stop_before="m013_tool_calls_in_results_and_search")
    assert _matches(db.conn, "ghostmark") == (1 if in_place else 0)
    if in_place:
        db.execute(_GHOST_GONE)
    db.close()

    with open_db(path) as store:  # m013 fills the index anew, with the calls' tool calls
        reader = store.read().conn
        applied = [row[0] for row in reader.execute("SELECT name FROM _sqlite_migrations")]
        assert applied == list(KNOWN_MIGRATIONS)
        declared = reader.execute("SELECT sql FROM sqlite_master WHERE name = 'calls_fts'")
        assert 'content="calls"' in declared.fetchone()[0]
        assert _matches(reader, "ghostmark") == 0
        assert _matches(reader, "persimmon") == 50
        assert search_index.indexed_through(reader) == 50
        _assert_index_equals_the_calls(reader)
        triggers = {row[0] for row in reader.execute("SELECT name FROM sqlite_master")}
        assert "calls_fts_insert" not in triggers
        assert {"calls_fts_delete", "calls_fts_update"} <= triggers


def test_the_writer_indexes_after_a_short_idle_or_a_lag_at_most() -> None:
    behind = batches.IndexBehind(Path("unused.db"), connect)
    assert behind.wait_s() is None  # nothing left to index: wait for the next write
    behind.left_behind()
    assert 0 < (behind.wait_s() or 0) <= batches.INDEX_IDLE_S
    assert behind.since is not None
    behind.since -= batches.INDEX_LAG_S  # writes kept coming for a whole lag
    assert behind.wait_s() == 0
    behind.caught_up()
    assert behind.wait_s() is None


def test_a_failed_catch_up_is_tried_again_a_lag_later(tmp_path: Path) -> None:
    behind = batches.IndexBehind(tmp_path / "missing" / "x.db", connect)
    behind.left_behind()
    behind.catch_up()  # the folder does not exist: the connection fails
    assert behind.since is not None
    assert batches.INDEX_IDLE_S < (behind.wait_s() or 0) <= batches.INDEX_LAG_S
    behind.close()
