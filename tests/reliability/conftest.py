"""Helpers the reliability scenarios share: SQLite's own health checks on a file, read with a
plain sqlite3 connection so no llmbench code stands between the file and the verdict, and a
fixture that makes a file read-only."""

from __future__ import annotations

import queue
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A server's start imports litellm: in a fresh virtualenv (no byte code yet) on a CI machine
# running three suites on two cores, that took over a minute once. Starting is not what these
# scenarios time; their own waits stay short.
START_WAIT_S = 300.0


class LineServer:
    """A test helper module run in a subprocess (`python -m MODULE`), its stdout read line by
    line on a thread; it prints `ready` once it can take commands on stdin."""

    def __init__(self, module: str, stderr_path: Path, wait_s: float) -> None:
        self.wait_s = wait_s
        self._stderr = stderr_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next_line(START_WAIT_S) == "ready"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, wait_s: float | None = None) -> str:
        try:
            return self.lines.get(timeout=wait_s or self.wait_s)
        except queue.Empty:
            raise AssertionError("the fork server went quiet") from None


def file_health(path: Path) -> tuple[list[str], list[tuple[object, ...]]]:
    """`PRAGMA integrity_check` lines and `PRAGMA foreign_key_check` rows of a database file."""
    conn = sqlite3.connect(path)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems = [tuple(row) for row in conn.execute("PRAGMA foreign_key_check")]
    finally:
        conn.close()
    return integrity, problems


def assert_sound(path: Path) -> None:
    integrity, problems = file_health(path)
    assert integrity == ["ok"], integrity
    assert problems == [], problems


def count(path: Path, sql: str, params: tuple[object, ...] = ()) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def read_only_file() -> Iterator[Callable[[Path], None]]:
    """Make a database file unwritable for this process (chmod 0444, and `chattr +i` when
    running as root, whom permissions do not stop); undone after the test."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o444)
        undo.append(lambda: path.chmod(mode))
        try:
            with path.open("r+b"):
                writable = True
        except PermissionError:
            writable = False
        if writable:
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot make {path.name} read-only here: {done.stderr!r}")
            undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))

    yield make
    for step in reversed(undo):
        step()
