"""Scenario 9 — someone with the database file (and the sqlite3 shell) rewrites the audit log.

What it proves: each way of tampering is caught by `llmbench audit verify` — exit 1 and its own
message naming the row — with no checkpoint: an edited body, a forged purge (text replaced or
emptied under `purged_at`, or a purge record forged), calls deleted in the middle, a cut tail,
every call deleted (even with the head beside the key deleted too), a log resealed without the
key, a second key for a copied database (a key fork), and an edited `meta.db_id`. Only
llmbench's purge opens the purge window: a bare row, or a spent token replayed, lets no UPDATE
through. What the head kept beside the key cannot catch — a reseal by someone who holds the key
file — a checkpoint kept elsewhere does.

The log is written once per module through the SDK (`llmbench/mock`), then copied for each
test with its key and the head recorded beside it, as a user's files would be.

Runtime: ~5 s.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends import null

from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.core.audit.chain import seal
from llmbench.gateway.chain_key import key_file
from llmbench.services.audit.retention import RetentionPolicy, run_purge
from llmbench.services.sdk import Bench
from llmbench.store.audit.log import chain_head, insert_sealed, seal_calls
from llmbench.store.db import open_db

CALLS = 12


@dataclass(frozen=True)
class Template:
    db: Path
    keys: Path


@pytest.fixture(autouse=True)
def no_os_keyring() -> Iterator[None]:
    """Chain keys and heads go to files under the test's home, never to a real keyring."""
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


def _ask(bench: Bench, n: int) -> None:
    bench.complete("llmbench/mock", [{"role": "user", "content": f"question {n} about refunds"}])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    root = tmp_path_factory.mktemp("chain-template")
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LLMBENCH_HOME", str(root / "home"))
            with Bench(db=root / "log.db", settings=Settings()) as bench:
                for n in range(CALLS):
                    _ask(bench, n)
    finally:
        keyring.set_keyring(previous)
    yield Template(root / "log.db", root / "home" / "audit-keys")


@pytest.fixture
def log(template: Template, tmp_path: Path, isolated_home: Path) -> Path:
    """This test's copy of the log, its key and recorded head on this test's 'machine'."""
    db = tmp_path / "log.db"
    shutil.copy(template.db, db)
    shutil.copytree(template.keys, isolated_home / "audit-keys")
    return db


def _shell(db: Path, sql: str) -> None:
    """What someone with the sqlite3 shell does: drop the guards, change rows."""
    conn = sqlite3.connect(db)
    try:
        conn.executescript(
            "DROP TRIGGER IF EXISTS calls_no_update; DROP TRIGGER IF EXISTS calls_no_delete;" + sql
        )
    finally:
        conn.close()


def _verify(db: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["audit", "verify", "--db", str(db), *extra])


def _failed(db: Path, *extra: str) -> str:
    result = _verify(db, *extra)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("FAILED at "), result.output
    return result.output


def _db_id(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0])
    finally:
        conn.close()


def test_the_untouched_log_verifies_against_the_recorded_head(log: Path) -> None:
    result = _verify(log)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ok: {CALLS} calls verified")
    assert "it reaches the head recorded beside the key" in result.output


def test_an_edited_body(log: Path) -> None:
    _shell(log, "UPDATE calls SET response = 'refund approved' WHERE id = 5;")
    output = _failed(log)
    assert output.startswith("FAILED at call 5: the messages, response or error of call 5 were")


def test_a_forged_purge(log: Path) -> None:
    # The recipe that used to pass: open the purge window with a bare row, rewrite a body under
    # purged_at, close the window. The window no longer opens...
    conn = sqlite3.connect(log)
    with pytest.raises(sqlite3.IntegrityError, match="only llmbench audit purge"):
        conn.execute("INSERT INTO purge_window (id, reason) VALUES (1, 'cleanup')")
    conn.close()
    # ...and with every guard dropped, verification still names the row.
    _shell(
        log,
        "DROP TRIGGER purge_window_open; INSERT INTO purge_window (id, reason) VALUES (1, 'x');"
        "UPDATE calls SET purged_at = '2026-01-01T00:00:00.000Z', response = 'all fine',"
        " messages = '[]' WHERE id = 7; DELETE FROM purge_window;",
    )
    output = _failed(log)
    assert "FAILED at call 7: call 7 is marked purged but still holds text" in output


def test_a_purge_nobody_recorded(log: Path) -> None:
    _shell(
        log,
        "UPDATE calls SET purged_at = '2026-01-01T00:00:00.000Z', messages = NULL,"
        " response = NULL, error = NULL WHERE id = 3;",
    )
    output = _failed(log)
    assert "FAILED at call 3: call 3 is marked purged (at 2026-01-01T00:00:00.000Z)" in output
    assert "no purge recorded by llmbench covers it" in output


def test_a_forged_purge_record(log: Path) -> None:
    # The triggers check a purge record's token; only the key can make its HMAC.
    _shell(
        log,
        "INSERT INTO chain_purges (token, purged_at, calls, redacted, reason, hash)"
        " VALUES ('t0k3n', '2026-01-01T00:00:00.000Z', '[[4,4]]', 1, 'retention', 'f00d');"
        "INSERT INTO purge_window (id, reason, token) VALUES (1, 'retention', 't0k3n');"
        "UPDATE calls SET purged_at = '2026-01-01T00:00:00.000Z', messages = NULL,"
        " response = NULL, error = NULL WHERE id = 4;"
        "DELETE FROM purge_window;",
    )
    output = _failed(log)
    assert "FAILED at call 4: call 4 was purged under purge record #1, which llmbench did" in output


def test_only_llmbench_purge_opens_the_window(log: Path) -> None:
    with open_db(log) as store:
        outcome = run_purge(store, RetentionPolicy(redact_after_days=1), who="ops", now=_later())
        (context,) = (
            store.read()
            .execute("SELECT context FROM alerts WHERE id = ?", [outcome.alert_id])
            .fetchone()
        )
    alert = json.loads(context)
    conn = sqlite3.connect(log)
    token, digest = conn.execute("SELECT token, hash FROM chain_purges").fetchone()
    assert (alert["purge_token"], alert["purge_record_hmac"]) == (token, digest)
    for row in ("(1, 'x', NULL)", f"(1, 'replayed', '{token}')"):
        with pytest.raises(sqlite3.IntegrityError, match="only llmbench audit purge"):
            conn.execute(f"INSERT INTO purge_window (id, reason, token) VALUES {row}")
    # Even with the window's own guard dropped, a bare row lets no UPDATE through.
    conn.execute("DROP TRIGGER purge_window_open")
    conn.execute("INSERT INTO purge_window (id, reason) VALUES (1, 'bare')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE calls SET response = 'x' WHERE id = 1")
    conn.close()
    result = _verify(log)
    assert result.exit_code == 0, result.output
    assert f"{CALLS} with purged bodies" in result.output


def test_calls_deleted_in_the_middle(log: Path) -> None:
    _shell(log, "DELETE FROM calls WHERE id BETWEEN 4 AND 6;")
    output = _failed(log)
    assert output.startswith("FAILED at call 7: calls 4–6 were deleted: call 7 no longer follows")


def test_a_cut_tail_with_no_checkpoint(log: Path) -> None:
    _shell(log, f"DELETE FROM calls WHERE id > {CALLS - 3};")
    output = _failed(log)
    assert output.startswith(
        f"FAILED at call {CALLS - 2}: calls {CALLS - 2}–{CALLS} were cut from the end: the head "
        f"recorded beside the key is call {CALLS} ({CALLS} calls)"
    )


def test_every_call_deleted(log: Path, isolated_home: Path) -> None:
    _shell(log, "DELETE FROM calls;")
    assert "every call was deleted: the log is empty, but the head recorded beside" in (
        _failed(log)
    )
    # With the head beside the key gone too, the form record still says calls were sealed.
    (isolated_home / "audit-keys" / f"{_db_id(log)}.head").unlink()
    assert "every call was deleted: the log is empty, yet llmbench sealed calls from call 1" in (
        _failed(log)
    )


def _reseal(db: Path, key: bytes, edit: str = "") -> None:
    """Recompute every seal from the genesis on, as a forger who kept llmbench's code would."""
    _shell(db, edit)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    (db_id,) = conn.execute("SELECT db_id FROM chain_forms").fetchone()
    prev = "genesis"
    for row in [dict(r) for r in conn.execute("SELECT * FROM calls ORDER BY id")]:
        sealed = seal(key, prev, row, form=2, db_id=db_id)
        conn.execute(
            "UPDATE calls SET content_hash = ?, prev_hash = ?, hash = ? WHERE id = ?",
            [sealed["content_hash"], sealed["prev_hash"], sealed["hash"], row["id"]],
        )
        prev = sealed["hash"]
    conn.commit()
    conn.close()


def test_a_log_resealed_without_the_key(log: Path) -> None:
    checkpoint = CliRunner().invoke(cli, ["audit", "checkpoint", "--db", str(log)]).output.strip()
    _reseal(log, secrets.token_bytes(32), "UPDATE calls SET response = 'nothing' WHERE id = 2;")
    for extra in ((), ("--checkpoint", checkpoint)):  # a checkpoint used to blame a cut tail
        output = _failed(log, *extra)
        assert output.startswith(
            f"FAILED at call 1: no call verifies under this database's key: the whole log "
            f"(calls 1–{CALLS}) was resealed without it, though the head recorded beside the key"
        )


def test_a_reseal_with_the_key_needs_a_checkpoint_kept_elsewhere(
    log: Path, isolated_home: Path
) -> None:
    """Whoever holds the key file can reseal the log and record a new head beside the key:
    only a checkpoint kept out of their reach still shows it."""
    checkpoint = CliRunner().invoke(cli, ["audit", "checkpoint", "--db", str(log)]).output.strip()
    key = key_file(_db_id(log))
    _reseal(log, bytes.fromhex(key.read_text()), "UPDATE calls SET response = 'fine' WHERE id = 2;")
    (isolated_home / "audit-keys" / f"{_db_id(log)}.head").unlink()  # they rewrite it too
    assert _verify(log).exit_code == 0
    output = _failed(log, "--checkpoint", checkpoint)
    assert output.startswith(f"FAILED at call {CALLS}: call {CALLS} is not the call of the ")


def test_a_copied_database_gets_no_second_key(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmbench.gateway.chain_key import ChainKeyNotHere

    export = tmp_path / "log.key"
    runner = CliRunner()
    exported = runner.invoke(cli, ["audit", "key", "export", str(export), "--db", str(log)])
    assert exported.exit_code == 0, exported.output
    assert export.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(cli, ["audit", "key", "export", str(export), "--db", str(log)])
    assert again.exit_code == 1 and "never overwrites" in again.output

    # Another machine: the copy, without its key.
    monkeypatch.setenv("LLMBENCH_HOME", str(tmp_path / "elsewhere"))
    copy = tmp_path / "copy.db"
    shutil.copy(log, copy)
    with pytest.raises(ChainKeyNotHere) as refused:
        Bench(db=copy, settings=Settings())
    message = str(refused.value)
    assert "no" in message and "llmbench audit key export FILE" in message
    assert "llmbench audit key import FILE" in message
    assert not key_file(_db_id(copy)).exists()  # no second key was made
    cli_call = runner.invoke(cli, ["import", "jsonl", str(_jsonl(tmp_path)), "--db", str(copy)])
    assert cli_call.exit_code == 1 and "llmbench audit key import" in cli_call.output
    assert "Traceback" not in cli_call.output

    wrong = tmp_path / "wrong.key"
    wrong.write_text(secrets.token_hex(32) + "\n")
    refused_import = runner.invoke(cli, ["audit", "key", "import", str(wrong), "--db", str(copy)])
    assert refused_import.exit_code == 1
    assert "does not verify this database's audit chain" in refused_import.output
    imported = runner.invoke(cli, ["audit", "key", "import", str(export), "--db", str(copy)])
    assert imported.exit_code == 0, imported.output
    assert key_file(_db_id(copy)).stat().st_mode & 0o777 == 0o600
    with Bench(db=copy, settings=Settings()) as bench:
        _ask(bench, 99)
    result = _verify(copy)
    assert result.exit_code == 0 and result.output.startswith(f"ok: {CALLS + 1} calls verified")


def test_a_key_fork(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an earlier llmbench did with a copy: made it a key of its own and sealed new calls
    with it. llmbench now refuses to write with such a key, and verification names the fork."""
    from llmbench.store.audit.log import ChainKeyMismatch

    original = key_file(_db_id(log)).read_text()
    monkeypatch.setenv("LLMBENCH_HOME", str(tmp_path / "elsewhere"))
    second = secrets.token_bytes(32)
    key_file(_db_id(log)).parent.mkdir(parents=True)
    key_file(_db_id(log)).write_text(second.hex() + "\n")
    with pytest.raises(ChainKeyMismatch, match="sealed with another audit-chain key"):
        Bench(db=log, settings=Settings())
    with open_db(log) as store:
        calls = [_forked_call(n) for n in range(3)]
        store.write(lambda db: insert_sealed(db, seal_calls(second, chain_head(db), calls)[0]))
    output = _failed(log)
    assert output.startswith(
        f"FAILED at call 1: calls 1–{CALLS} were sealed with another key (id "
    ), output
    assert "this key is a second key made for a copy of this database (a key fork)" in output
    # With the original key the forked calls are named as not sealed with it.
    (tmp_path / "original.key").write_text(original)
    output = _failed(log, "--key-file", str(tmp_path / "original.key"))
    assert f"FAILED at call {CALLS + 1}: calls {CALLS + 1}–{CALLS + 3} were appended" in output
    assert "written under a second key on a copy of this database" in output


def test_an_edited_db_id(log: Path) -> None:
    db_id = _db_id(log)
    _shell(log, "UPDATE meta SET value = 'f00df00df00df00df00df00df00df00d' WHERE key = 'db_id';")
    output = _failed(log)
    assert output.startswith(
        "FAILED at meta.db_id: meta.db_id was changed to f00df00df00df00df00df00df00df00d: this "
        f"log was sealed for database {db_id}"
    )


def _later() -> object:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=3)


def _forked_call(n: int) -> dict[str, object]:
    return {
        "ts": f"2030-01-01T00:00:0{n}.000Z",
        "request_id": f"fork-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": "[]",
        "response": "written on the copy",
    }


def _jsonl(folder: Path) -> Path:
    path = folder / "calls.jsonl"
    line = {
        "ts": "2026-01-01T00:00:00Z",
        "id": "imported-1",
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "response_text": "hello",
        "prompt_tokens": 3,
        "completion_tokens": 1,
    }
    path.write_text(json.dumps(line) + "\n")
    return path
