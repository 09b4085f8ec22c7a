from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from llmbench.store.db import (
    APPLICATION_ID,
    KNOWN_MIGRATIONS,
    DatabaseTooNew,
    NotAnLLMBenchDatabase,
    StoreError,
    open_db,
)
from llmbench.store.maintenance import check_integrity, pragma_values
from tests.store.purge_window import open_purge_window

EXPECTED_TABLES = {
    "prompts",
    "prompt_versions",
    "prompt_labels",
    "label_moves",
    "prompt_notes",
    "datasets",
    "cases",
    "runs",
    "results",
    "calls",
    "calls_fts",
    "checks",
    "rubrics",
    "grades",
    "feedback",
    "budgets",
    "alerts",
    "prices",
    "cache",
    "purge_window",
}


def _now_call(db, request_id: str = "r1", text: str = "hello world") -> int:
    return db.execute(
        "INSERT INTO calls (ts, request_id, model_requested, model, messages, response, status)"
        " VALUES ('2026-01-01T00:00:00.000Z', ?, 'm', 'm', ?, 'the answer', 'ok')",
        [request_id, f'[{{"role": "user", "content": "{text}"}}]'],
    ).lastrowid


def test_migrating_an_empty_file_creates_the_whole_model(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:
        db = store.read()
        assert set(db.table_names()) >= EXPECTED_TABLES
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        assert {
            "calls_ts",
            "calls_model_ts",
            "calls_status_ts",
            "calls_feature_ts",
            "calls_customer_ts",
            "calls_version_ts",
            "results_case",
        } <= indexes
        triggers = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
        # The writer indexes new calls (store/audit/search_index.py): no insert trigger.
        assert "calls_fts_insert" not in triggers
        assert {
            "calls_fts_delete",
            "calls_fts_update",
            "calls_no_update",
            "calls_no_delete",
            "prompt_versions_immutable",
        } <= triggers
        assert {c.name for c in db["calls"].columns} >= {
            "ts",
            "model_requested",
            "model",
            "provider",
            "prompt_version_id",
            "run_id",
            "messages",
            "params",
            "response",
            "finish_reason",
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "cost",
            "input_price",
            "output_price",
            "latency_ms",
            "ttft_ms",
            "status",
            "error",
            "feature",
            "team",
            "customer",
            "task_type",
            "user",
            "guard_flags",
            "prev_hash",
            "hash",
        }
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(KNOWN_MIGRATIONS)


def test_every_connection_has_the_pragmas(tmp_path: Path) -> None:
    expected = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}
    with open_db(tmp_path / "a.db") as store:
        seen: list[dict[str, object]] = [pragma_values(store.read())]
        seen.append(store.write(pragma_values))
        thread = threading.Thread(target=lambda: seen.append(pragma_values(store.read())))
        thread.start()
        thread.join()
    for values in seen:
        assert {k: values[k] for k in expected} == expected
        assert int(values["busy_timeout"]) >= 5000


def test_new_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "private.db"
    open_db(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    open_db(path).close()
    with open_db(path) as store:
        rows = store.read().execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    assert rows == len(KNOWN_MIGRATIONS)


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some text, not a database")
    with pytest.raises(NotAnLLMBenchDatabase, match="not a SQLite file"):
        open_db(path)
    assert path.read_text() == "just some text, not a database"


def test_someone_elses_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAnLLMBenchDatabase, match="not an llmbench one"):
        open_db(path)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["things"]
    conn.close()


def test_a_database_from_a_newer_llmbench_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
        " VALUES ('llmbench', 'm999_from_the_future', 'later')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseTooNew, match="newer llmbench"):
        open_db(path)


def test_missing_file_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_db(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_a_failing_job_rolls_back_only_itself(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:

        def insert(name: str):
            return lambda db: (
                db.execute(
                    "INSERT INTO prompts (name, created_at) VALUES (?, 'now')", [name]
                ).lastrowid
            )

        def failing(db):
            db.execute("INSERT INTO prompts (name, created_at) VALUES ('half', 'now')")
            raise RuntimeError("boom")

        futures = [store.submit(insert("one")), store.submit(failing), store.submit(insert("two"))]
        assert futures[0].result() >= 1
        with pytest.raises(RuntimeError, match="boom"):
            futures[1].result()
        assert futures[2].result() >= 1
        names = [r["name"] for r in store.read().query("SELECT name FROM prompts ORDER BY id")]
    assert names == ["one", "two"]


def test_concurrent_writers_from_many_threads_all_land(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:

        def worker(offset: int) -> None:
            for i in range(50):
                store.write(lambda db, i=i: _now_call(db, request_id=f"{offset}-{i}"))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 400
        assert check_integrity(store.read()).ok


def test_fts_indexes_messages_and_responses(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:
        store.write(lambda db: _now_call(db, text="refund for order 8812"))
        rows = (
            store.read()
            .execute("SELECT rowid FROM calls_fts WHERE calls_fts MATCH 'refund AND answer'")
            .fetchall()
        )
    assert len(rows) == 1


def test_the_audit_log_is_append_only(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:
        call_id = store.write(_now_call)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.write(lambda db: db.execute("UPDATE calls SET cost = 0 WHERE id = ?", [call_id]))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.write(lambda db: db.execute("DELETE FROM calls WHERE id = ?", [call_id]))

        def purge(db):
            open_purge_window(db, "test")
            db.execute("UPDATE calls SET messages = NULL, response = NULL WHERE id = ?", [call_id])
            db.execute("DELETE FROM purge_window")

        store.write(purge)
        assert store.read().execute("SELECT messages FROM calls").fetchone()[0] is None
        hits = store.read().execute("SELECT count(*) FROM calls_fts WHERE calls_fts MATCH 'answer'")
        assert hits.fetchone()[0] == 0


def test_saved_prompt_versions_cannot_be_edited(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store:

        def save(db):
            prompt = db.execute(
                "INSERT INTO prompts (name, created_at) VALUES ('p', 'now')"
            ).lastrowid
            return db.execute(
                "INSERT INTO prompt_versions (prompt_id, version, sections, created_at)"
                " VALUES (?, 1, '{}', 'now')",
                [prompt],
            ).lastrowid

        version = store.write(save)
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            store.write(
                lambda db: db.execute(
                    "UPDATE prompt_versions SET message='x' WHERE id=?", [version]
                )
            )


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with open_db(tmp_path / "a.db") as store, pytest.raises(sqlite3.IntegrityError):
        store.write(
            lambda db: db.execute(
                "INSERT INTO prompt_versions (prompt_id, version, sections, created_at)"
                " VALUES (999, 1, '{}', 'now')"
            )
        )


def test_the_light_migration_list_matches_the_registered_migrations() -> None:
    from llmbench.store.db import KNOWN_MIGRATIONS
    from llmbench.store.schema.migrations import migrations

    assert tuple(m.name for m in migrations._migrations) == KNOWN_MIGRATIONS


def test_opening_a_current_file_does_not_import_sqlite_utils(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "a.db"
    open_db(path).close()
    code = (
        "import sys; from llmbench.store.db import open_db; "
        f"open_db({str(path)!r}).close(); print('sqlite_utils' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
