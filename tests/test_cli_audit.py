from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends import null

from llmbench.cli import cli
from llmbench.demo.build import build_demo
from llmbench.demo.optimize_runs import call_count

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


@pytest.fixture(autouse=True)
def no_os_keyring() -> Iterator[None]:
    """Chain keys go to the key file, whatever keyring this machine has (a desktop's, or one
    another test module installed): keyring's null backend, set through keyring's own hook, is
    no keyring at all, so these tests never write to the user's real keyring either."""
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    return build_demo(tmp_path / "demo.db", calls=800, now=NOW).path


def _tamper(path: Path, sql: str) -> None:
    """What someone with the sqlite3 shell would do: drop the guard, change a row."""
    conn = sqlite3.connect(path)
    conn.executescript(f"DROP TRIGGER calls_no_update; DROP TRIGGER calls_no_delete; {sql}")
    conn.close()


def test_verify_passes_on_a_fresh_log(demo_db: Path) -> None:
    result = run("audit", "verify", "--db", str(demo_db))
    assert result.exit_code == 0, result.output
    # 800, the optimizer prompt's 40 and the recorded bake-off's cells
    assert result.output.startswith(f"ok: {840 + call_count()} calls verified")


@pytest.mark.parametrize(
    ("sql", "bad_row"),
    [
        ("UPDATE calls SET cost = cost * 2 WHERE id = 321;", 321),
        ("UPDATE calls SET response = 'nothing to see' WHERE id = 77;", 77),
        ("DELETE FROM calls WHERE id = 500;", 501),
    ],
)
def test_verify_names_the_first_bad_row(demo_db: Path, sql: str, bad_row: int) -> None:
    _tamper(demo_db, sql)
    result = run("audit", "verify", "--db", str(demo_db))
    assert result.exit_code == 1
    assert result.output.startswith(f"FAILED at call {bad_row}:")


def test_a_checkpoint_catches_a_cut_tail(demo_db: Path) -> None:
    head = run("audit", "checkpoint", "--db", str(demo_db)).output.strip()
    last = 840 + call_count()  # 800 calls, the optimizer prompt's 40 and the bake-off's cells
    assert head.startswith(f"{last}:")
    _tamper(demo_db, "DELETE FROM calls WHERE id > 830;")
    # The head recorded beside the key catches it on its own; a checkpoint kept elsewhere too.
    default = run("audit", "verify", "--db", str(demo_db))
    assert (
        default.exit_code == 1
        and f"the head recorded beside the key is call {last}" in default.output
    )
    result = run("audit", "verify", "--db", str(demo_db), "--checkpoint", head)
    assert result.exit_code == 1
    assert f"calls 831–{last} were cut from the end: the checkpoint is call {last}" in result.output
    bad = run("audit", "verify", "--db", str(demo_db), "--checkpoint", "nonsense")
    assert bad.exit_code == 2


def test_a_missing_key_is_a_clear_error(demo_db: Path, isolated_home: Path) -> None:
    keys = list((isolated_home / "audit-keys").glob("*.key"))
    assert len(keys) == 1  # the demo's key went to the file, not to a keyring
    keys[0].unlink()
    result = run("audit", "verify", "--db", str(demo_db))
    assert result.exit_code == 1
    assert "no audit-chain key" in result.output and "--key-file" in result.output
