"""m012: a call's conversation, trace and parent step, on real SQLite files. They are sealed as
metadata only when a call has them (rows sealed before keep verifying), an edit of one in a copy
of the file is named by `verify`, a purge keeps them, and a file from before m012 takes the
calls an older llmbench writes while refusing to drop a conversation silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import append_calls, database_id, plan_purge, purge, verify_chain
from llmbench.store.db import Store, StoreError, connect, open_db
from llmbench.store.schema.migrations import migrations


def _call(n: int, **where: str) -> dict[str, object]:
    return {
        "ts": f"2026-03-01T10:00:0{n}.000Z",
        "request_id": f"r-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "response": f"answer {n}",
        **where,
    }


THREAD = {"conversation_id": "chat-7", "trace_id": "run-1"}


def test_conversation_fields_are_sealed_only_when_present_and_kept_by_a_purge(
    tmp_path: Path,
) -> None:
    with open_db(tmp_path / "conv.db") as store:
        key = load_chain_key(database_id(store.read()))
        calls = [
            _call(1),  # sealed as before m012: no conversation
            _call(2, **THREAD),
            _call(3, **THREAD, parent_request_id="r-2"),
        ]
        store.write(lambda db: append_calls(db, key, calls))
        assert verify_chain(store.read(), key).ok
        rows = store.read().execute(
            "SELECT conversation_id, trace_id, parent_request_id FROM calls ORDER BY id"
        )
        assert rows.fetchall() == [
            (None, None, None),
            ("chat-7", "run-1", None),
            ("chat-7", "run-1", "r-2"),
        ]
        plan = store.read().execute(
            "EXPLAIN QUERY PLAN SELECT id FROM calls WHERE conversation_id = ? ORDER BY id",
            ["chat-7"],
        )
        assert "calls_conversation" in " ".join(str(row) for row in plan)

        # Each field is sealed: an edit in a copy of the file names the call.
        for column, value in (("conversation_id", "chat-8"), ("parent_request_id", None)):
            tampered = tmp_path / f"tampered-{column}.db"
            store.read().execute("VACUUM INTO ?", [str(tampered)])
            with open_db(tampered, create=False) as copy:

                def forge(db: object, column: str = column, value: object = value) -> None:
                    db.execute("DROP TRIGGER calls_no_update")  # type: ignore[attr-defined]
                    db.execute(  # type: ignore[attr-defined]
                        f"UPDATE calls SET {column} = ? WHERE id = 3", [value]
                    )

                copy.write(forge)
                report = verify_chain(copy.read(), key)
            assert not report.ok and "call 3" in str(report.problem), column

        # Giving a conversation to a call sealed without one is caught too.
        tampered = tmp_path / "tampered-added.db"
        store.read().execute("VACUUM INTO ?", [str(tampered)])
        with open_db(tampered, create=False) as copy:

            def add(db: object) -> None:
                db.execute("DROP TRIGGER calls_no_update")  # type: ignore[attr-defined]
                db.execute("UPDATE calls SET conversation_id = 'chat-7' WHERE id = 1")  # type: ignore[attr-defined]

            copy.write(add)
            report = verify_chain(copy.read(), key)
        assert not report.ok and "call 1" in str(report.problem)

        plan_all = plan_purge(store.read(), None, "2999-01-01T00:00:00Z")
        store.write(lambda db: purge(db, key, plan_all, "conversation retention test"))
        kept = store.read().execute(
            "SELECT messages, conversation_id, parent_request_id FROM calls WHERE id = 3"
        )
        assert kept.fetchone() == (None, "chat-7", "r-2")
        assert verify_chain(store.read(), key).ok


def test_a_file_from_before_m012_takes_old_calls_and_refuses_a_conversation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m011.db"
    path.touch(mode=0o600)
    db = connect(path)
    db.execute("PRAGMA application_id = 1280068930")
    migrations.apply(db, stop_before="m012_conversations")
    db.close()
    older = Store(path)
    key = load_chain_key(database_id(older.read()))
    older.write(lambda db: append_calls(db, key, [_call(1)]))
    with pytest.raises(StoreError, match="predates conversation_id"):
        older.write(lambda db: append_calls(db, key, [_call(2, conversation_id="chat-1")]))
    assert older.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    older.close()

    with open_db(path) as store:  # migrated: the old call verifies, a new one has its thread
        store.write(lambda db: append_calls(db, key, [_call(2, conversation_id="chat-1")]))
        assert verify_chain(store.read(), key).ok
        found = store.read().execute("SELECT id FROM calls WHERE conversation_id = 'chat-1'")
        assert found.fetchall() == [(2,)]


def test_the_log_filters_by_conversation_and_trace_and_reads_a_thread(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from llmbench.core.audit.query import QueryError, parse
    from llmbench.store.audit import browser
    from llmbench.store.audit.threads import read_thread, thread_of_call

    with open_db(tmp_path / "threads.db") as store:
        key = load_chain_key(database_id(store.read()))
        calls = [
            _call(1, conversation_id="chat-7", trace_id="run-1"),
            _call(2, conversation_id="chat-7", trace_id="run-1", parent_request_id="r-1"),
            _call(3, conversation_id="chat-7", trace_id="run-1", parent_request_id="r-1"),
            _call(4, conversation_id="chat-7", trace_id="run-2", parent_request_id="r-2"),
            _call(5, trace_id="run-3"),
            _call(6),
            # A parent chain that loops, and a parent that is not in the log: never lost.
            _call(7, conversation_id="loop", parent_request_id="r-8"),
            _call(8, conversation_id="loop", parent_request_id="r-7"),
            _call(9, conversation_id="loop", parent_request_id="gone"),
        ]
        store.write(lambda db: append_calls(db, key, calls))
        db = store.read()
        now = datetime(2026, 3, 2, tzinfo=UTC)
        for text, expected in (
            ("conversation:chat-7", [4, 3, 2, 1]),
            ("session:chat-7 trace:run-2", [4]),
            ("trace:run-1,run-3", [5, 3, 2, 1]),
            ('conversation:"loop"', [9, 8, 7]),
            ("conversation:nothing", []),
        ):
            flt = browser.compile_filter(db, parse(text), now)
            assert [row.id for row in browser.page(db, flt).rows] == expected, text
        with pytest.raises(QueryError):
            parse("conversation:")
        sql, params = browser._select(
            browser.compile_filter(db, parse("conversation:chat-7"), now), None, "older", 10
        )
        plan = " ".join(str(r) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "calls_conversation" in plan

        thread = thread_of_call(db, 2)
        assert thread is not None and (thread.kind, thread.id) == ("conversation", "chat-7")
        assert [(s.id, s.depth) for s in thread.steps] == [(1, 0), (2, 1), (4, 2), (3, 1)]
        assert thread.traces == ("run-1", "run-2") and thread.tokens == 0
        trace = thread_of_call(db, 5)
        assert trace is not None and trace.kind == "trace" and len(trace.steps) == 1
        assert thread_of_call(db, 6) is None and thread_of_call(db, 99) is None
        looped = read_thread(db, "conversation", "loop")
        assert sorted(s.id for s in looped.steps) == [7, 8, 9]
        short = read_thread(db, "conversation", "chat-7", limit=2)
        assert short.truncated and len(short.steps) == 2


def test_each_later_metadata_field_alone_changes_the_seal() -> None:
    from llmbench.core.audit.chain import LATER_METADATA_FIELDS, canonical_metadata

    base = _call(1)
    plain = canonical_metadata(base)
    assert "conversation_id" not in plain  # a row without them seals as before m012
    values = {"text": "x", "int": 1, "real": 1.0}
    for name, kind in LATER_METADATA_FIELDS.items():
        assert canonical_metadata({**base, name: values[kind]}) != plain, name
