"""Scenario 2 — every connection's pragmas, and an online backup taken during writes.

What it proves:
  * each connection llmbench opens on a file — the single writer's, this thread's reader and the
    readers of other threads (the TUI's workers each get one) — runs with journal_mode WAL,
    synchronous FULL, foreign_keys on, a busy_timeout of at least 5 s and secure_delete on;
  * `llmbench db backup` (services.database.backup_to, SQLite's backup API) copies the file while
    another thread keeps appending to the audit log: every copy passes integrity_check and
    foreign_key_check, opens as an llmbench database once put in place (the restore), its hash
    chain verifies, and it is exactly a prefix of the live log — the file as of one commit.

Runtime: ~1 s.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.database import backup_to
from llmbench.store.audit.log import append_calls, database_id, verify_chain
from llmbench.store.db import Store, StoreError, open_db
from llmbench.store.maintenance import pragma_values
from tests.reliability.conftest import assert_sound, count

EXPECTED = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}
BATCH = 20


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "live.db") as opened:
        yield opened


def _call(n: int) -> dict[str, object]:
    return {
        "ts": f"2026-03-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "request_id": f"backup-{n}",
        "model_requested": "llmbench/echo",
        "model": "llmbench/echo",
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "response": f"answer {n}",
        "prompt_tokens": 3,
        "completion_tokens": 2,
    }


def test_every_connection_runs_with_the_pragmas(store: Store) -> None:
    connections = {"reader (this thread)": id(store.read().conn)}
    seen = {"reader (this thread)": pragma_values(store.read())}
    seen["writer"] = store.write(pragma_values)
    connections["writer"] = store.write(lambda db: id(db.conn))

    def read_in_thread(name: str) -> None:
        connections[name] = id(store.read().conn)
        seen[name] = pragma_values(store.read())

    threads = [
        threading.Thread(target=read_in_thread, args=(f"reader (thread {n})",)) for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Five connections, each opened by its own thread, none shared.
    assert len(set(connections.values())) == 5
    for name, values in seen.items():
        assert {k: values[k] for k in EXPECTED} == EXPECTED, name
        assert int(str(values["busy_timeout"])) >= 5000, name


def test_an_online_backup_during_writes_restores_and_checks_clean(
    store: Store, tmp_path: Path
) -> None:
    key = load_chain_key(database_id(store.read()))
    store.write(lambda db: append_calls(db, key, [_call(n) for n in range(BATCH)]))
    stop = threading.Event()
    written = [BATCH]

    def keep_writing() -> None:
        while not stop.is_set():
            start = written[0]
            batch = [_call(n) for n in range(start, start + BATCH)]
            store.write(lambda db, batch=batch: append_calls(db, key, batch))
            written[0] = start + BATCH

    writer = threading.Thread(target=keep_writing)
    writer.start()
    backups: list[tuple[Path, int, int]] = []
    try:
        for n in range(3):
            before = written[0]
            target = backup_to(store, tmp_path / f"backup-{n}.db")
            backups.append((target, before, written[0] + BATCH))
        # The command line does the same, on its own connection to the file in use.
        before = written[0]
        cli_target = tmp_path / "backup-cli.db"
        result = CliRunner().invoke(
            cli, ["db", "backup", str(cli_target), "--db", str(store.path)], prog_name="llmbench"
        )
        assert result.exit_code == 0, result.output
        assert "integrity ok" in result.output
        backups.append((cli_target, before, written[0] + BATCH))
    finally:
        stop.set()
        writer.join()
    assert written[0] > 4 * BATCH  # the writes really went on around the backups

    live_hashes = [row[0] for row in store.read().execute("SELECT hash FROM calls ORDER BY id")]
    for target, at_least, at_most in backups:
        assert_sound(target)
        restored = tmp_path / f"restored-{target.name}"
        shutil.copy(target, restored)
        with open_db(restored, create=False) as copy:
            db = copy.read()
            report = verify_chain(db, key)
            assert report.ok, report.problem
            hashes = [row[0] for row in db.execute("SELECT hash FROM calls ORDER BY id")]
        assert at_least <= len(hashes) <= at_most
        assert hashes == live_hashes[: len(hashes)]  # one commit's state, a prefix of the log
        assert count(restored, "SELECT count(*) FROM calls") % BATCH == 0  # never half a batch
        assert_sound(restored)


def test_a_backup_never_overwrites_a_file(store: Store, tmp_path: Path) -> None:
    existing = tmp_path / "keep.db"
    existing.write_bytes(b"precious")
    with pytest.raises(StoreError, match="already exists"):
        backup_to(store, existing)
    assert existing.read_bytes() == b"precious"
