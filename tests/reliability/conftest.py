"""Helpers the reliability scenarios share: SQLite's own health checks on a file, read with a
plain sqlite3 connection so no llmbench code stands between the file and the verdict."""

from __future__ import annotations

import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
