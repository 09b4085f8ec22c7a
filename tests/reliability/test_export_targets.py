"""Exports are as private as the database, and never replace what stands at their path.

Every export command (`logs export`, `datasets export`, `grades export`; the TUI's export
dialogs call the same services) is run against the hostile or unusual targets a user may give:
any umask, an existing file someone else could read, a symbolic link (to a file or to nothing
yet), a FIFO, a character device, a folder and a socket. The data folder itself is created 0700
by every path that creates it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench import Bench
from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.demo.build import build_demo
from llmbench.gateway.client import shutdown_sync
from llmbench.store.db import open_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

Command = Callable[[str, str], list[str]]
EXPORTS: dict[str, Command] = {
    "logs": lambda db, path: ["logs", "export", path, "--db", db],
    "datasets": lambda db, path: ["datasets", "export", "invoices", "-o", path, "--db", db],
    "grades": lambda db, path: ["grades", "export", path, "--db", db],
}
_COUNTS = {
    "logs": "SELECT count(*) FROM calls",
    "datasets": "SELECT count(*) FROM cases JOIN datasets d ON d.id = dataset_id "
    "WHERE d.name = 'invoices'",
    "grades": "SELECT count(*) FROM grades",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="llmbench")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Calls, datasets and grades: a small demo."""
    folder = tmp_path_factory.mktemp("exports")
    return str(build_demo(folder / "demo.db", calls=40, now=NOW).path)


@pytest.fixture(scope="module")
def lines(database: str) -> dict[str, int]:
    """How many JSON lines each export of the database holds."""
    conn = sqlite3.connect(database)
    try:
        counts = {kind: int(conn.execute(sql).fetchone()[0]) for kind, sql in _COUNTS.items()}
    finally:
        conn.close()
    assert all(counts.values()), counts
    return counts


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _json_lines(text: str | bytes) -> int:
    lines = text.decode() if isinstance(text, bytes) else text
    return sum(1 for line in lines.splitlines() if json.loads(line) is not None)


# -- modes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000, 0o277])
@pytest.mark.parametrize("kind", list(EXPORTS))
def test_an_export_is_0600_whatever_the_umask(
    database: str, lines: dict[str, int], tmp_path: Path, kind: str, mask: int
) -> None:
    fresh, existing = tmp_path / "fresh.jsonl", tmp_path / "existing.jsonl"
    existing.write_text("someone else's old export\n")
    existing.chmod(0o644)
    with umask(mask):
        for target in (fresh, existing):
            code, output = run(*EXPORTS[kind](database, str(target)))
            assert code == 0, output
    for target in (fresh, existing):
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, (target, oct(target.stat().st_mode))
        assert _json_lines(target.read_text()) == lines[kind]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.jsonl", "fresh.jsonl"]


def _new_database(path: Path) -> None:
    with open_db(path):
        pass


def _bench_at_the_default_path(path: Path) -> None:
    os.environ["LLMBENCH_HOME"] = str(path.parent)  # restored by the isolated_home fixture
    with Bench(settings=Settings()):
        pass
    shutdown_sync()


def _demo(path: Path) -> None:
    build_demo(path, calls=40)


@pytest.mark.parametrize("create", [_new_database, _bench_at_the_default_path, _demo])
def test_a_new_data_folder_is_0700(tmp_path: Path, create: Callable[[Path], None]) -> None:
    folder = tmp_path / "data" / "llmbench"
    with umask(0o022):
        create(folder / "llmbench.db")
    assert (folder / "llmbench.db").exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "llmbench.db").stat().st_mode) == 0o600


# -- what stands at the path ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_a_symlink_is_followed_and_stays_a_link(
    database: str, lines: dict[str, int], tmp_path: Path, kind: str
) -> None:
    real, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    real.write_text("old\n")
    real.chmod(0o644)
    link.symlink_to(real)
    code, output = run(*EXPORTS[kind](database, str(link)))
    assert code == 0, output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert _json_lines(real.read_text()) == lines[kind]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    # A link to nothing yet: the file is created where it points.
    missing, dangling = tmp_path / "later.jsonl", tmp_path / "dangling.jsonl"
    dangling.symlink_to(missing)
    assert run(*EXPORTS[kind](database, str(dangling)))[0] == 0
    assert dangling.is_symlink() and _json_lines(missing.read_text()) == lines[kind]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.jsonl",
        "later.jsonl",
        "link.jsonl",
        "real.jsonl",
    ]


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_a_fifo_is_written_through(
    database: str, lines: dict[str, int], tmp_path: Path, kind: str
) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    # The read end is open before the export starts, so the export's open never waits; a
    # thread drains it while the export writes more than a pipe holds.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    received = bytearray()
    exported = threading.Event()

    def drain() -> None:
        while True:
            finished = exported.is_set()
            try:
                chunk = os.read(reader, 65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                received.extend(chunk)
            elif finished:
                return
            else:
                time.sleep(0.005)

    thread = threading.Thread(target=drain)
    thread.start()
    try:
        code, output = run(*EXPORTS[kind](database, str(fifo)))
    finally:
        exported.set()
        thread.join(10)
        os.close(reader)
    assert code == 0, output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _json_lines(bytes(received)) == lines[kind]
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.jsonl"]


def _character_device(tmp_path: Path) -> tuple[Path, Path]:
    """(the path to export to, the device): a null device of the test's own where it may make
    one (root), else a link to /dev/null. Replacing the device is what the old code did as root:
    never to the machine's own /dev/null. Named .jsonl, as `datasets export` wants."""
    node = tmp_path / "null.jsonl"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        node.symlink_to("/dev/null")
        return node, Path("/dev/null")
    return node, node


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_a_character_device_is_written_through(database: str, tmp_path: Path, kind: str) -> None:
    target, device = _character_device(tmp_path)
    before = device.lstat()
    code, output = run(*EXPORTS[kind](database, str(target)))
    assert code == 0, output
    after = device.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert (after.st_ino, stat.S_IMODE(after.st_mode)) == (
        before.st_ino,
        stat.S_IMODE(before.st_mode),
    )
    assert target.is_symlink() == (target != device)
    assert [p.name for p in tmp_path.iterdir()] == ["null.jsonl"]


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_a_folder_is_refused_in_one_line(database: str, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    code, output = run(*EXPORTS[kind](database, str(folder)))
    assert code == 2 and len(output.splitlines()) == 1
    assert f"'{folder}' is a directory" in output
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize("kind", list(EXPORTS))
def test_a_socket_is_refused_in_one_line(database: str, tmp_path: Path, kind: str) -> None:
    folder = Path(os.path.relpath(tmp_path))  # a socket's path has a short length limit
    path = folder / "s.jsonl"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        code, output = run(*EXPORTS[kind](database, str(path)))
    finally:
        listener.close()
    assert code == 1
    assert (
        output == f"llmbench: cannot write {path}: it is a socket, not a file: give a file name\n"
    )
    assert stat.S_ISSOCK(path.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["s.jsonl"]


def test_a_descriptor_path_is_written_through_to_the_file_it_names(
    database: str, lines: dict[str, int], tmp_path: Path
) -> None:
    """`llmbench logs export /dev/fd/1 > calls.jsonl`: the shell's file is written, not
    replaced by another one (the shell, and whoever else holds it, keep the same file)."""
    out = tmp_path / "calls.jsonl"
    out.write_text("old\n")
    inode = out.stat().st_ino
    with out.open("r+b") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "llmbench", "logs", "export", "/dev/fd/1", "--db", database],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_ino == inode
    assert _json_lines(out.read_text()) == lines["logs"]
    assert [p.name for p in tmp_path.iterdir()] == ["calls.jsonl"]
