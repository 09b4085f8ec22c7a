"""Scenario 12 — an archived log on read-only media.

What it proves: a database whose folder cannot be written (read-only media, an archive, a
folder without write permission) or whose file cannot be written is opened for reading:
`db info`, `db check`, `prompts list`, `logs export` and `audit verify` work on it, and nothing
is left beside it — no -wal, no -shm (SQLite opens it `immutable` when no -wal is there). A
write is refused with the usual one line, "is read-only, so nothing was changed". Commits that
sit in a -wal beside the archived file are read too. A file that would need a schema upgrade
says so in one line. Before, every command, even `db info` and `audit verify`, refused the
file: "the file and its folder must be writable".

How the conditions are made: chmod (0555 for a folder, 0444 for a file), and `chattr +i` as
well when the tests run as root, whom permissions do not stop.

Runtime: ~1 s.
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

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.store.db import DatabaseReadOnly, open_db
from llmbench.store.prompts import versions as prompts_repo
from tests.reliability.conftest import assert_sound

CALLS = 5


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


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
        if _writable(path):
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot make {path.name} read-only here: {done.stderr!r}")
            undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))
        assert not _writable(path)

    yield make
    for step in reversed(undo):
        step()


def _archive(folder: Path) -> Path:
    """A database with sealed calls (imported, so the chain key exists) and a prompt."""
    folder.mkdir()
    source = folder.parent / "calls.jsonl"
    source.write_text(
        "".join(
            json.dumps({"ts": f"2025-01-01T00:00:0{n}Z", "model": "gpt-4o", "cost": 0.01}) + "\n"
            for n in range(CALLS)
        )
    )
    path = folder / "archive.db"
    assert _cli("import", "jsonl", str(source), "--db", str(path)).exit_code == 0
    return path


def _one_line(result: Result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = re.findall(r"llmbench: .*", result.output)
    assert len(lines) == 1 and words in lines[0], result.output


def test_an_archive_in_a_read_only_folder_is_read_and_verified(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    folder = tmp_path / "archive"
    path = _archive(folder)
    read_only(folder)
    db = ("--db", str(path))
    info = _cli("db", "info", *db)
    assert info.exit_code == 0 and re.search(rf"calls: +{CALLS}", info.output), info.output
    assert _cli("db", "check", *db).output == "ok\n"
    verified = _cli("audit", "verify", *db)
    assert verified.exit_code == 0 and "ok" in verified.output, verified.output
    exported = tmp_path / "calls.jsonl"
    assert _cli("logs", "export", str(exported), *db).exit_code == 0
    assert len(exported.read_text().splitlines()) == CALLS
    assert _cli("prompts", "list", *db).exit_code == 0
    _one_line(_cli("budgets", "set", "global", "--limit", "5", *db), "is read-only")
    assert [child.name for child in folder.iterdir()] == ["archive.db"]  # no -wal, no -shm


def test_a_read_only_file_leaves_nothing_beside_it(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    folder = tmp_path / "archive"
    path = _archive(folder)
    read_only(path)
    with open_db(path, create=False) as store:
        assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == CALLS
        with pytest.raises(DatabaseReadOnly, match="is read-only, so nothing was changed"):
            store.write(lambda db: db.execute("DELETE FROM prompts"))
    assert _cli("db", "check", "--db", str(path)).output == "ok\n"
    assert [child.name for child in folder.iterdir()] == ["archive.db"]


def test_commits_still_in_the_wal_are_read_from_read_only_media(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    path = _archive(tmp_path / "live")
    # Another connection holds the file open, so closing the store neither checkpoints the
    # new prompt into the file nor removes the -wal.
    holder = sqlite3.connect(path)
    holder.execute("SELECT count(*) FROM calls").fetchone()
    with open_db(path) as store:
        store.write(lambda db: prompts_repo.create_prompt(db, "in-the-wal"))
    archive = tmp_path / "archive"
    archive.mkdir()
    for suffix in ("", "-wal", "-shm"):  # copied as they are while a writer holds the file
        shutil.copy(f"{path}{suffix}", archive / f"archive.db{suffix}")
    holder.close()
    assert (archive / "archive.db-wal").stat().st_size > 0
    read_only(archive)
    with open_db(archive / "archive.db", create=False) as store:
        names = store.read().execute("SELECT name FROM prompts").fetchall()
        assert [tuple(row) for row in names] == [("in-the-wal",)]
    assert sorted(child.name for child in archive.iterdir()) == [
        "archive.db",
        "archive.db-shm",
        "archive.db-wal",
    ]


def test_a_file_that_needs_an_upgrade_says_so(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    folder = tmp_path / "archive"
    path = _archive(folder)
    conn = sqlite3.connect(path)
    with conn:  # as if written by the llmbench before the last schema step
        conn.execute(
            "DELETE FROM _sqlite_migrations WHERE id = (SELECT max(id) FROM _sqlite_migrations)"
        )
    conn.close()
    assert_sound(path)
    read_only(folder)
    _one_line(_cli("db", "info", "--db", str(path)), "needs this llmbench's schema")
    assert [child.name for child in folder.iterdir()] == ["archive.db"]
