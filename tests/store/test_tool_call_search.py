"""The calls' search index holds their tool calls since m013: a file from before is indexed
anew (tool names and argument values found, the declaration Datasette detects kept), new
calls are indexed by the writer, and a purge takes their tool calls out of the index too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit import search_index
from llmbench.store.audit.log import append_calls, database_id, plan_purge, purge
from llmbench.store.db import KNOWN_MIGRATIONS, Store, connect, open_db
from llmbench.store.schema.migrations import migrations

M013 = "m013_tool_calls_in_results_and_search"


def _call(n: int, tool: str, city: str, ts: str) -> dict[str, object]:
    return {
        "ts": ts,
        "request_id": f"r-{tool}-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "response": "",
        "tool_calls": json.dumps(
            [{"id": f"call_{n}", "name": tool, "arguments": json.dumps({"city": city})}]
        ),
    }


def _matches(conn: sqlite3.Connection, words: str) -> int:
    query = "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?"
    return int(conn.execute(query, [words]).fetchone()[0])


def _sound(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("INSERT INTO calls_fts (calls_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.rollback()


def test_an_older_file_is_indexed_anew_with_its_tool_calls_and_a_purge_empties_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m012.db"
    path.touch(mode=0o600)
    db = connect(path)
    db.execute("PRAGMA application_id = 1280068930")
    migrations.apply(db, stop_before=M013)
    db.close()
    older = Store(path)  # the schema of m012: tool calls kept, but not in the index
    key = load_chain_key(database_id(older.read()))
    old_calls = [
        _call(n, "get_weather", "Trondheim", f"2020-01-0{n + 1}T00:00:00.000Z") for n in range(2)
    ]
    older.write(lambda db: append_calls(db, key, old_calls))
    assert _matches(older.read().conn, "trondheim") == 0
    older.close()

    with open_db(path) as store:
        reader = store.read().conn
        applied = [row[0] for row in reader.execute("SELECT name FROM _sqlite_migrations")]
        assert applied == list(KNOWN_MIGRATIONS)
        declared = reader.execute("SELECT sql FROM sqlite_master WHERE name = 'calls_fts'")
        assert 'content="calls"' in declared.fetchone()[0]
        assert _matches(reader, "trondheim") == 2
        assert _matches(reader, 'tool_calls : "get weather"') == 2
        assert search_index.indexed_through(reader) == 2
        new = [
            _call(n, "book_table", "Bergen", f"2026-01-0{n + 1}T00:00:00.000Z") for n in range(2, 4)
        ]
        store.write(lambda db: append_calls(db, key, new))
        assert (_matches(reader, "bergen"), _matches(reader, '"book table"')) == (2, 2)
        _sound(reader)

        assert b"trondheim" in _index_bytes(reader)
        # Emptying the old calls takes their tool calls out of the index with their text.
        plan = store.write(lambda db: plan_purge(db, None, "2021-01-01T00:00:00.000Z"))
        assert plan.to_redact == 2
        store.write(lambda db: purge(db, key, plan, "test"))
        assert (_matches(reader, "trondheim"), _matches(reader, "bergen")) == (0, 2)
        _sound(reader)
        assert b"trondheim" not in _index_bytes(reader)  # merged away, not only tombstoned


def _index_bytes(conn: sqlite3.Connection) -> bytes:
    return b"".join(bytes(row[0]) for row in conn.execute("SELECT block FROM calls_fts_data"))
