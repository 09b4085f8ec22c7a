"""The chain's sealed forms and purge records: a log written before them keeps verifying, the
first write in form 2 records the form and the purges done before, and from then on every
purged call must be named by a purge record llmbench wrote."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from llmbench.core.audit.chain import GENESIS, canonical_metadata, form_hash, key_id
from llmbench.store.audit.log import (
    ChainKeyMismatch,
    append_calls,
    insert_sealed,
    plan_purge,
    purge,
    seal_calls,
    verify_chain,
)
from llmbench.store.db import APPLICATION_ID, connect, open_db
from llmbench.store.schema.migrations import migrations

KEY = b"f" * 32


def _call(n: int, day: int = 1) -> dict[str, object]:
    return {
        "ts": f"2026-01-{day:02d}T00:00:{n % 60:02d}.000Z",
        "request_id": f"req-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "response": f"answer {n}",
        "status": "ok",
    }


def _legacy_log(path: Path) -> None:
    """A database as llmbench wrote it before m008: form-1 seals, and a purge that opened the
    window with a bare row and recorded nothing but purged_at."""
    path.touch(mode=0o600)
    db = connect(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db, stop_before="m008_chain_forms_and_purge_records")
    db.conn.execute("UPDATE meta SET value = 'legacy-db' WHERE key = 'db_id'")
    rows, _head = seal_calls(KEY, (0, GENESIS), [_call(n) for n in range(1, 7)])
    insert_sealed(db, rows)
    db.conn.execute("INSERT INTO purge_window (id, reason) VALUES (1, 'old retention')")
    db.conn.execute(
        "UPDATE calls SET messages = NULL, response = NULL, error = NULL,"
        " purged_at = '2026-02-01T00:00:00.000000Z' WHERE id IN (1, 2)"
    )
    db.conn.execute("DELETE FROM purge_window")
    db.conn.commit()
    db.close()


def test_a_log_from_before_form_records_keeps_verifying(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    _legacy_log(path)
    with open_db(path) as store:  # migrates to m008
        report = verify_chain(store.read(), KEY)
        assert report.ok, report.problem
        assert (report.checked, report.purged_bodies, report.unrecorded_purges) == (6, 2, 2)

        ids = store.write(lambda db: append_calls(db, KEY, [_call(7), _call(8)]))
        assert ids == [7, 8]
        db = store.read()
        form = db.execute("SELECT form, first_call_id, db_id, key_id FROM chain_forms").fetchall()
        assert form == [(2, 7, "legacy-db", key_id(KEY))]
        recorded = db.execute("SELECT calls, redacted FROM chain_purges").fetchall()
        assert recorded == [("[[1,2]]", 2)]  # the old purge, recorded with the form
        report = verify_chain(db, KEY)
        assert report.ok, report.problem
        assert (report.checked, report.purged_bodies, report.unrecorded_purges) == (8, 2, 0)
        row = next(db.query("SELECT * FROM calls WHERE id = 8"))
        bound = form_hash(
            KEY, 2, "legacy-db", row["prev_hash"], canonical_metadata(row), row["content_hash"]
        )
        assert row["hash"] == bound  # form 2: sealed for its database

    # A purge forged on an old call after the upgrade is caught like any other.
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TRIGGER calls_no_update; UPDATE calls SET messages = NULL, response = NULL,"
        " purged_at = '2026-02-01T00:00:00.000000Z' WHERE id = 4;"
    )
    conn.close()
    with open_db(path) as store:
        report = verify_chain(store.read(), KEY)
    assert report.problem is not None and report.problem.kind == "forged-purge"
    assert report.problem.call_id == 4


def test_a_purge_records_what_it_emptied_and_opens_its_window_once(tmp_path: Path) -> None:
    with open_db(tmp_path / "p.db") as store:
        store.write(lambda db: append_calls(db, KEY, [_call(n, 1 + n // 5) for n in range(1, 15)]))
        plan = plan_purge(store.read(), "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")
        done = store.write(lambda db: purge(db, KEY, plan, "retention"))
        db = store.read()
        assert (done.plan.to_delete, done.plan.to_redact) == (4, 5)
        record = db.execute(
            "SELECT id, token, calls, redacted, deleted_through, hash FROM chain_purges"
        ).fetchone()
        assert record == (done.record_id, done.token, "[[5,9]]", 5, 4, done.record_hash)
        assert db.execute("SELECT count(*) FROM purge_window").fetchone()[0] == 0
        spent = db.execute("SELECT token FROM purge_tokens_spent").fetchall()
        assert spent == [(done.token,)]
        report = verify_chain(db, KEY)
        assert report.ok, report.problem
        assert report.purged_bodies == 5

    conn = sqlite3.connect(tmp_path / "p.db")
    with pytest.raises(sqlite3.IntegrityError, match="only llmbench audit purge"):
        conn.execute(
            "INSERT INTO purge_window (id, reason, token) VALUES (1, 'again', ?)", [done.token]
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE chain_purges SET calls = '[[5,14]]'")
    conn.close()


def test_a_purge_record_edited_to_cover_more_calls_is_caught(tmp_path: Path) -> None:
    with open_db(tmp_path / "p.db") as store:
        store.write(lambda db: append_calls(db, KEY, [_call(n, 1 + n // 5) for n in range(1, 15)]))
        plan = plan_purge(store.read(), None, "2026-01-02T00:00:00Z")
        store.write(lambda db: purge(db, KEY, plan, "retention"))
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.executescript(
        "DROP TRIGGER chain_purges_no_update; DROP TRIGGER calls_no_update;"
        "UPDATE chain_purges SET calls = '[[1,6]]';"
        "UPDATE calls SET messages = NULL, response = NULL, purged_at ="
        " (SELECT purged_at FROM chain_purges) WHERE id IN (5, 6);"
    )
    conn.close()
    with open_db(tmp_path / "p.db") as store:
        report = verify_chain(store.read(), KEY)
    assert report.problem is not None and report.problem.kind == "forged-purge"
    assert report.problem.call_id == 1
    assert "which llmbench did not write" in report.problem.reason


def test_appending_with_a_second_key_is_refused(tmp_path: Path) -> None:
    with open_db(tmp_path / "k.db") as store:
        store.write(lambda db: append_calls(db, KEY, [_call(1)]))
        with pytest.raises(ChainKeyMismatch, match=f"another audit-chain key \\(id {key_id(KEY)}"):
            store.write(lambda db: append_calls(db, b"s" * 32, [_call(2)]))
        assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 1


def test_a_call_moved_to_another_database_does_not_verify_there(tmp_path: Path) -> None:
    """Form 2 binds a call to its database: the same key on two databases (an import into an
    empty one) does not let calls move between them."""
    stores = [open_db(tmp_path / f"{name}.db") for name in ("a", "b")]
    try:
        for store in stores:
            store.write(lambda db: append_calls(db, KEY, [_call(1)]))
        source = stores[0].read().execute("SELECT * FROM calls WHERE id = 1").fetchone()
    finally:
        for store in stores:
            store.close()
    conn = sqlite3.connect(tmp_path / "b.db")
    marks = ", ".join("?" for _ in source)
    conn.executescript("DROP TRIGGER calls_no_delete; DELETE FROM calls;")
    conn.execute(f"INSERT INTO calls VALUES ({marks})", source)
    conn.commit()
    conn.close()
    with open_db(tmp_path / "b.db") as store:
        report = verify_chain(store.read(), KEY)
    assert report.problem is not None and report.problem.call_id == 1


def test_an_old_style_purge_window_row_is_cleared_by_the_migration(tmp_path: Path) -> None:
    """A window left open by an llmbench killed mid-purge before m008 cannot stay open."""
    path = tmp_path / "open.db"
    _legacy_log(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO purge_window (id, reason) VALUES (1, 'left open')")
    conn.commit()
    conn.close()
    with open_db(path) as store:
        db = store.read()
        assert db.execute("SELECT count(*) FROM purge_window").fetchone()[0] == 0
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM calls WHERE id = 6")
    conn.close()
