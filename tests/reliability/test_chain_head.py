"""Scenario 10 — the chain's head is kept beside the key, and follows every commit of calls.

What it proves: the head recorded beside the key (0600, HMAC'd) follows the recorder's commits,
imports and purges, so a cut tail shows without a checkpoint whichever way the calls came in; a
head left behind by a process killed before it recorded one still verifies (the calls after it
verify under the key) and verification moves it on; a log cut back and then continued by
llmbench never moves the head, so the cut stays visible; a head edited without the key is
named; a log written before heads existed gets one at its first verification; with an OS
keyring the head is kept there, beside the key; and an older copy (a backup) verifies with
`--no-head`, while a restored backup is accepted only with `--reset-head`.

Runtime: ~2 s (plus litellm's import if no earlier test paid it).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backend import KeyringBackend
from keyring.backends import null

from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import chain_key_for, head_file, key_file
from llmbench.services.audit.retention import RetentionPolicy, run_purge
from llmbench.services.sdk import Bench
from llmbench.store.audit.log import append_calls, database_id
from llmbench.store.db import open_db


@pytest.fixture(autouse=True)
def no_os_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


def _verify(db: Path) -> Result:
    return CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])


def _head(db: Path) -> dict[str, object]:
    conn = sqlite3.connect(db)
    (db_id,) = conn.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()
    conn.close()
    path = head_file(db_id)
    assert path.stat().st_mode & 0o777 == 0o600
    return json.loads(path.read_text())


def _cut(db: Path, after: int) -> None:
    conn = sqlite3.connect(db)
    conn.executescript(f"DROP TRIGGER calls_no_delete; DELETE FROM calls WHERE id > {after};")
    conn.close()


def _ask(bench: Bench, n: int) -> None:
    bench.complete("llmbench/mock", [{"role": "user", "content": f"question {n}"}])


def _call(n: int) -> dict[str, object]:
    return {
        "ts": f"2026-01-01T00:00:{n:02d}.000Z",
        "request_id": f"direct-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": "[]",
        "response": f"answer {n}",
    }


def test_the_head_follows_the_recorders_commits(tmp_path: Path) -> None:
    db = tmp_path / "sdk.db"
    with Bench(db=db, settings=Settings()) as bench:
        for n in range(5):
            _ask(bench, n)
        bench.gateway.recorder.flush()
        assert (_head(db)["call_id"], _head(db)["count"]) == (5, 5)
        for n in range(5, 8):
            _ask(bench, n)
    assert (_head(db)["call_id"], _head(db)["count"]) == (8, 8)
    _cut(db, 7)
    result = _verify(db)
    assert result.exit_code == 1
    assert "call 8 was cut from the end: the head recorded beside the key is call 8" in (
        result.output
    )


def test_imports_record_the_head(tmp_path: Path) -> None:
    db = tmp_path / "import.db"
    source = tmp_path / "calls.jsonl"
    lines = [
        {
            "ts": f"2026-01-01T00:00:{n:02d}Z",
            "id": f"imported-{n}",
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": f"hi {n}"}],
            "response_text": "hello",
            "prompt_tokens": 3,
            "completion_tokens": 1,
        }
        for n in range(6)
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    imported = CliRunner().invoke(cli, ["import", "jsonl", str(source), "--db", str(db)])
    assert imported.exit_code == 0, imported.output
    assert _head(db)["call_id"] == 6
    _cut(db, 4)
    assert "calls 5–6 were cut from the end" in _verify(db).output


def test_a_purge_records_the_smaller_log(tmp_path: Path) -> None:
    db = tmp_path / "purge.db"
    with open_db(db) as store:
        key = chain_key_for(store)
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(10)]))
        record_head(store, key)
        run_purge(store, RetentionPolicy(delete_after_days=1), who="ops")
    head = _head(db)
    assert (head["call_id"], head["count"]) == (10, 0)
    result = _verify(db)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("nothing to verify: the log holds no calls (retention")


def test_a_head_left_behind_still_verifies_and_is_moved_on(tmp_path: Path) -> None:
    """A process killed after its commit but before recording the head: the calls after the
    head verify under the key, so they are accepted, and verification records them."""
    db = tmp_path / "behind.db"
    with open_db(db) as store:
        key = chain_key_for(store)
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(4)]))
        record_head(store, key)
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(4, 7)]))
    assert _head(db)["call_id"] == 4
    result = _verify(db)
    assert result.exit_code == 0, result.output
    assert "it reaches the head recorded beside the key" in result.output
    assert _head(db)["call_id"] == 7


def test_a_log_cut_back_and_continued_never_moves_the_head(tmp_path: Path) -> None:
    db = tmp_path / "continued.db"
    with Bench(db=db, settings=Settings()) as bench:
        for n in range(6):
            _ask(bench, n)
    _cut(db, 3)
    with Bench(db=db, settings=Settings()) as bench:  # llmbench keeps writing after the cut
        for n in range(6, 10):
            _ask(bench, n)
    assert _head(db)["call_id"] == 6  # not moved onto the continued log
    result = _verify(db)
    assert result.exit_code == 1
    assert result.output.startswith(
        "FAILED at call 6: call 6 is not the call of the head recorded beside the key"
    )


def test_a_head_edited_without_the_key_is_named(tmp_path: Path) -> None:
    db = tmp_path / "edited.db"
    with Bench(db=db, settings=Settings()) as bench:
        for n in range(3):
            _ask(bench, n)
    head = _head(db)
    head["call_id"] = 2
    path = head_file(str(head["db_id"]))
    path.write_text(json.dumps(head))
    result = _verify(db)
    assert result.exit_code == 1
    assert result.output.startswith(
        "FAILED at the recorded head: the head recorded beside the key does not verify"
    )


def test_a_log_written_before_heads_gets_one_at_its_first_verification(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with open_db(db) as store:
        key = chain_key_for(store)
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(3)]))
        db_id = database_id(store.read())
    assert key_file(db_id).exists() and not head_file(db_id).exists()
    first = _verify(db)
    assert first.exit_code == 0
    assert "no head was recorded beside the key yet: recorded it now" in first.output
    assert _head(db)["call_id"] == 3
    _cut(db, 2)
    assert _verify(db).exit_code == 1


class MemoryKeyring(KeyringBackend):
    """An OS keyring as far as llmbench can tell: secrets kept in this process's memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def test_with_a_keyring_the_head_is_kept_there_beside_the_key(tmp_path: Path) -> None:
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    db = tmp_path / "keyring.db"
    with Bench(db=db, settings=Settings()) as bench:
        for n in range(4):
            _ask(bench, n)
        db_id = database_id(bench.store.read())
    assert not key_file(db_id).exists() and not head_file(db_id).exists()
    head = json.loads(memory.secrets[("llmbench-audit-chain", f"{db_id}:head")])
    assert (head["call_id"], head["count"]) == (4, 4)
    _cut(db, 2)
    assert "calls 3–4 were cut from the end" in _verify(db).output


def test_a_backup_verifies_without_the_head_and_a_restore_can_reset_it(tmp_path: Path) -> None:
    db, backup = tmp_path / "live.db", tmp_path / "backup.db"
    with open_db(db) as store:
        key = chain_key_for(store)
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(3)]))
    shutil.copy(db, backup)
    with open_db(db) as store:
        store.write(lambda d: append_calls(d, key, [_call(n) for n in range(3, 6)]))
        record_head(store, key)
    older = _verify(backup)
    assert older.exit_code == 1 and "for an older copy, such as a backup: --no-head" in older.output
    runner = CliRunner()
    ignored = runner.invoke(cli, ["audit", "verify", "--db", str(backup), "--no-head"])
    assert ignored.exit_code == 0 and ignored.output.startswith("ok: 3 calls verified")
    assert _head(db)["call_id"] == 6  # --no-head records nothing

    shutil.copy(backup, db)  # the backup restored: calls 4–6 are knowingly lost
    assert _verify(db).exit_code == 1
    reset = runner.invoke(cli, ["audit", "verify", "--db", str(db), "--reset-head"])
    assert reset.exit_code == 0, reset.output
    assert _head(db)["call_id"] == 3
    assert list(head_file(str(_head(db)["db_id"])).parent.glob("*.head.replaced-*"))
    assert _verify(db).exit_code == 0
