"""Appends continue the chain where the writer's last append left it without reading its end
first; the INSERT checks the end is still there. Whatever happened in between — another
process appended, the batch was rolled back, a purge deleted calls — the chain verifies."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import (
    append_calls,
    append_in_one_statement,
    chain_head,
    database_id,
    insert_sealed,
    plan_purge,
    purge,
    seal_calls,
    verify_chain,
)
from llmbench.store.db import Store, connect, open_db


def _call(n: int, ts: str = "2026-01-01T00:00:00.000Z") -> dict[str, Any]:
    return {
        "ts": ts,
        "request_id": f"r{n}",
        "model_requested": "m",
        "model": "m",
        "status": "ok",
        "response": f"answer {n}",
    }


def _ids(store: Store) -> list[int]:
    return [row[0] for row in store.read().execute("SELECT id FROM calls ORDER BY id")]


def test_an_append_by_another_process_in_between_is_continued(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    with open_db(path) as store:
        key = load_chain_key(database_id(store.read()))
        assert store.write(lambda db: append_calls(db, key, [_call(1), _call(2)])) == [1, 2]
        other = connect(path)  # another process's writer, sealing on the end it reads
        try:
            other.conn.execute("BEGIN IMMEDIATE")
            insert_sealed(other, seal_calls(key, chain_head(other), [_call(3)])[0])
            other.conn.execute("COMMIT")
        finally:
            other.close()
        assert store.write(lambda db: append_calls(db, key, [_call(4)])) == [4]
        assert _ids(store) == [1, 2, 3, 4]
        report = verify_chain(store.read(), key)
        assert report.ok, report.problem


def test_a_rolled_back_append_is_not_continued(tmp_path: Path) -> None:
    with open_db(tmp_path / "undone.db") as store:
        key = load_chain_key(database_id(store.read()))
        store.write(lambda db: append_calls(db, key, [_call(1)]))

        def append_then_fail(db: Any) -> None:
            append_calls(db, key, [_call(2), _call(3)])
            raise RuntimeError("the job fails after its append")

        with pytest.raises(RuntimeError):
            store.write(append_then_fail)
        assert store.write(lambda db: append_calls(db, key, [_call(4)])) == [2]
        assert _ids(store) == [1, 2]
        report = verify_chain(store.read(), key)
        assert report.ok, report.problem


def test_appends_after_a_purge_deleted_every_call_continue_from_its_anchor(
    tmp_path: Path,
) -> None:
    with open_db(tmp_path / "emptied.db") as store:
        key = load_chain_key(database_id(store.read()))
        old = [_call(n, "2020-01-01T00:00:00.000Z") for n in range(3)]
        store.write(lambda db: append_calls(db, key, old))
        plan = store.write(lambda db: plan_purge(db, "2021-01-01T00:00:00.000Z", None))
        store.write(lambda db: purge(db, key, plan, "test"))
        assert _ids(store) == []
        assert store.write(lambda db: append_calls(db, key, [_call(9)])) == [4]
        report = verify_chain(store.read(), key)
        assert report.ok, report.problem


def test_one_statement_appends_go_on_only_where_the_chain_still_ends(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    with open_db(path) as store:
        key = load_chain_key(database_id(store.read()))
    writer = connect(path)
    writer.conn.isolation_level = None  # as the store's writer: no implicit BEGIN
    try:
        assert append_in_one_statement(writer, key, [_call(1)]) is None  # nothing known yet
        writer.conn.execute("BEGIN IMMEDIATE")
        append_calls(writer, key, [_call(1)])
        writer.conn.execute("COMMIT")

        assert append_in_one_statement(writer, key, [_call(2), _call(3)]) == [2, 3]
        assert not writer.conn.in_transaction  # committed by SQLite as the statement ended
        assert _count(path) == 3

        other = connect(path)  # another process appends meanwhile
        try:
            other.conn.execute("BEGIN IMMEDIATE")
            insert_sealed(other, seal_calls(key, chain_head(other), [_call(4)])[0])
            other.conn.execute("COMMIT")
        finally:
            other.close()
        assert append_in_one_statement(writer, key, [_call(5)]) is None
        assert _count(path) == 4  # nothing written
        report = verify_chain(writer, key)
        assert report.ok, report.problem
    finally:
        writer.close()


def _count(path: Path) -> int:
    """Read by a connection of its own: only what is committed."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM calls").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("first_try", ["cannot", "raises"])
def test_a_write_whose_first_try_fails_runs_in_a_transaction(
    tmp_path: Path, first_try: str
) -> None:
    def attempt(db: Any) -> list[int] | None:
        if first_try == "raises":
            db.execute("INSERT INTO calls (id) VALUES (NULL)")  # refused: lands nothing
        return None

    with open_db(tmp_path / "fallback.db") as store:
        key = load_chain_key(database_id(store.read()))
        written = store.submit(
            lambda db: append_calls(db, key, [_call(1)]), index_later=True, first_try=attempt
        )
        assert written.result(10) == [1]
        assert _ids(store) == [1]
