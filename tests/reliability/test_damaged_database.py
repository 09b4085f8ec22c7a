"""Scenario 13 — a damaged b-tree page.

What it proves: when a page of the `calls` table is overwritten on disk (a bad sector, a
half-copied file), `llmbench db check` reports what `PRAGMA integrity_check` says — each line
of it, or, when SQLite stops the check on the page it cannot read, that error and the tables
it finds damaged — and exits 1; `audit verify`, `logs export` and `db info` print one line
saying the file is damaged and what to do, exit 1, and leave no half-written export. Before,
each of them printed a traceback ("sqlite3.DatabaseError: database disk image is malformed").

The damage is made by overwriting bytes of a real database file: a whole leaf page of `calls`
(SQLite cannot read it at all), or the cell offsets at the start of one (SQLite reads the page
and lists what is wrong with it).

Runtime: ~1 s.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli

CALLS = 300
INTERIOR_TABLE_PAGE = 0x05


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, int, int]:
    """A database of CALLS calls, closed cleanly; (its path, the page size, a leaf of calls)."""
    source = tmp_path / "calls.jsonl"
    lines = [
        {"ts": f"2025-01-01T00:{n // 60:02d}:{n % 60:02d}Z", "model": "gpt-4o", "cost": 0.001,
         "request": {"messages": [{"role": "user", "content": f"question {n} " * 20}]},
         "response": f"answer {n} " * 20}
        for n in range(CALLS)
    ]  # fmt: skip
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    path = tmp_path / "damaged.db"
    assert _cli("import", "jsonl", str(source), "--db", str(path)).exit_code == 0
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'calls'").fetchone()[0]
    finally:
        conn.close()
    return path, page_size, _second_leaf(path, page_size, root)


def _second_leaf(path: Path, page_size: int, root: int) -> int:
    """The second child of the table's root page, read from the file's bytes."""
    with path.open("rb") as file:
        file.seek((root - 1) * page_size)
        page = file.read(page_size)
    assert page[0] == INTERIOR_TABLE_PAGE, "the calls table needs more than one page"
    cells = struct.unpack(">H", page[3:5])[0]
    assert cells >= 2
    second_cell = struct.unpack(">H", page[14:16])[0]  # cell pointers start at offset 12
    return int(struct.unpack(">I", page[second_cell : second_cell + 4])[0])


def _overwrite(path: Path, page_size: int, page: int, offset: int, data: bytes) -> None:
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size + offset)
        file.write(data)


def _what_sqlite_says(path: Path) -> list[str]:
    """`PRAGMA integrity_check` on a plain connection: its lines, or the error it stops with.
    (What it adds after the page it reads first varies with the connection's settings, such as
    memory-mapped I/O; the findings about that page do not.)"""
    conn = sqlite3.connect(path)
    try:
        first = conn.execute("PRAGMA integrity_check").fetchone()
        return str(first[0]).splitlines()
    except sqlite3.DatabaseError as error:
        return [f"the check stopped: {error}"]
    finally:
        conn.close()


def _check_lines(result: Result) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert all(line.startswith(("integrity: ", "foreign key: ")) for line in lines), lines
    return [line.removeprefix("integrity: ") for line in lines]


def _damaged_line(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    lines = re.findall(r"llmbench: .*", result.output)
    assert len(lines) == 1 and "is damaged" in lines[0] and "db check" in lines[0], result.output


def _reports_the_damage(lines: list[str], leaf: int, path: Path) -> None:
    """`db check` says what integrity_check says: the lines about the damaged page, or, when
    SQLite stops the check there, its error and the damaged table."""
    if lines[0].startswith("the check stopped: "):
        assert any(line.startswith("calls: ") for line in lines), lines
        return
    assert lines[0] == "*** in database main ***" and any(f"page {leaf}" in line for line in lines)
    said = _what_sqlite_says(path)  # a plain connection lists the same page's findings
    assert set(said[1:]) <= set(lines) or said[0].startswith("the check stopped: "), said


def test_an_unreadable_page(tmp_path: Path, damaged: tuple[Path, int, int]) -> None:
    path, page_size, leaf = damaged
    _overwrite(path, page_size, leaf, 0, b"\x07" * page_size)
    _reports_the_damage(_check_lines(_cli("db", "check", "--db", str(path))), leaf, path)
    exported = tmp_path / "export.jsonl"
    _damaged_line(_cli("logs", "export", str(exported), "--db", str(path)))
    assert not exported.exists()
    _damaged_line(_cli("audit", "verify", "--db", str(path)))


def test_a_page_with_broken_cell_offsets(damaged: tuple[Path, int, int]) -> None:
    path, page_size, leaf = damaged
    _overwrite(path, page_size, leaf, 8, b"\xff" * 64)  # the cell pointers, after the header
    _reports_the_damage(_check_lines(_cli("db", "check", "--db", str(path))), leaf, path)
