"""Facts about a database file kept in its `meta` table (its id, what made it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database


def set_meta(db: Database, key: str, value: str) -> None:
    """Run inside a writer job."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def peek_meta(path: Path, key: str) -> str | None:
    """Read one fact from a file without migrating or otherwise changing it; None when the file
    is not an llmbench database or has no such fact."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])
