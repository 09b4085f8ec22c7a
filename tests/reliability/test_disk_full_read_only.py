"""Scenario 8 — a read-only database, a read-only folder, a full disk.

What it proves: when the file cannot be written, the store raises a StoreError that says what
happened and what to do (DatabaseReadOnly, DatabaseFull), the command line prints it as one
`llmbench: ...` line with exit code 1 and no traceback, nothing of the refused change lands (an
import stays all-or-nothing), and the file still passes integrity_check afterwards.

How the conditions are made:
  * read-only file: chmod 0444; when that does not stop the writer (tests running as root), the
    file is also made immutable with `chattr +i`;
  * read-only folder: chmod 0555 (and `chattr +i` under root) on a folder holding a cleanly
    closed database, so SQLite cannot create -wal and -shm files: it is opened read-only;
  * full disk: simulated with SQLite's `PRAGMA max_page_count`, set on every connection to the
    file's current size in pages, so any write that needs a new page fails with SQLITE_FULL —
    the same error, through the same code paths, as a disk with no space left.

Runtime: ~2 s.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.store import db as db_module
from llmbench.store.db import DatabaseFull, DatabaseReadOnly, open_db
from llmbench.store.prompts import versions as prompts_repo
from tests.reliability.conftest import assert_sound, count

BIG = "lorem ipsum dolor sit amet " * 80  # ~2 KB a body: a few hundred calls need new pages


def _writable(path: Path) -> bool:
    try:
        if path.is_dir():
            probe = path / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        else:
            with path.open("r+b"):
                pass
    except PermissionError:
        return False
    return True


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or folder unwritable for this process; undone after the test."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o555 if path.is_dir() else 0o444)
        undo.append(lambda: path.chmod(mode))
        if _writable(path):  # root ignores permissions; an immutable file stops it too
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot make {path.name} read-only here: {done.stderr!r}")
            undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))
        assert not _writable(path)

    yield make
    for step in reversed(undo):
        step()


def _database(path: Path) -> Path:
    with open_db(path) as store:
        store.write(lambda db: prompts_repo.create_prompt(db, "kept"))
    return path


def _calls_file(folder: Path, n: int) -> Path:
    path = folder / "calls.jsonl"
    lines = [
        json.dumps(
            {
                "ts": f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
                "model": "gpt-4o",
                "request": {"messages": [{"role": "user", "content": f"{i} {BIG}"}]},
                "response": f"answer {i} {BIG}",
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def _refused(result: Result, words: str) -> None:
    """One `llmbench: ...` line saying `words`, exit code 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # (An import's progress counter may share the line: it ends with a carriage return.)
    lines = re.findall(r"llmbench: .*", result.output)
    assert len(lines) == 1 and words in lines[0], result.output


def test_a_read_only_file(tmp_path: Path, read_only: Callable[[Path], None]) -> None:
    path = _database(tmp_path / "ro.db")
    calls = _calls_file(tmp_path, 3)
    read_only(path)
    with open_db(path, create=False) as store:
        assert count(path, "SELECT count(*) FROM prompts") == 1  # reading still works
        with pytest.raises(DatabaseReadOnly, match="is read-only, so nothing was changed"):
            store.write(lambda db: prompts_repo.create_prompt(db, "refused"))
    _refused(_cli("import", "jsonl", str(calls), "--db", str(path)), "is read-only")
    _refused(_cli("budgets", "set", "global", "--limit", "5", "--db", str(path)), "is read-only")
    assert_sound(path)
    assert count(path, "SELECT count(*) FROM prompts") == 1
    assert count(path, "SELECT count(*) FROM calls") == 0


def test_a_read_only_folder(tmp_path: Path, read_only: Callable[[Path], None]) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = _database(folder / "ro.db")
    read_only(folder)
    # Opened read-only (tests/reliability/test_read_only_media.py has the rest): reads work,
    # writes are refused.
    with open_db(path, create=False) as store:
        assert store.read_only
        with pytest.raises(DatabaseReadOnly, match="is read-only, so nothing was changed"):
            store.write(lambda db: prompts_repo.create_prompt(db, "refused"))
    assert "prompts:" in _cli("db", "info", "--db", str(path)).output
    _refused(_cli("budgets", "set", "global", "--limit", "5", "--db", str(path)), "is read-only")
    assert sorted(p.name for p in folder.iterdir()) == ["ro.db"]
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    assert_sound(copy)


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """From now on every connection to `path` may not grow it by a single page."""

    def fill(path: Path) -> None:
        conn = sqlite3.connect(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.close()
        apply = db_module._apply_pragmas

        def with_limit(conn: sqlite3.Connection) -> None:
            apply(conn)
            conn.execute(f"PRAGMA max_page_count = {pages}")

        monkeypatch.setattr(db_module, "_apply_pragmas", with_limit)

    return fill


def test_a_full_disk(tmp_path: Path, disk_full: Callable[[Path], None]) -> None:
    path = _database(tmp_path / "full.db")
    calls = _calls_file(tmp_path, 300)
    disk_full(path)

    def big_prompts(db: Any) -> None:
        for n in range(200):
            prompts_repo.create_prompt(db, f"big {n}", description=BIG)

    with open_db(path, create=False) as store:
        with pytest.raises(DatabaseFull, match="the disk is full, so this change was not written"):
            store.write(big_prompts)
        # The writer lives on: a change that fits still goes through.
        store.write(lambda db: db.execute("UPDATE prompts SET description = 'fits'"))
    _refused(_cli("import", "jsonl", str(calls), "--db", str(path)), "the disk is full")
    assert_sound(path)
    assert count(path, "SELECT count(*) FROM calls") == 0  # all or nothing
    assert count(path, "SELECT count(*) FROM prompts") == 1
