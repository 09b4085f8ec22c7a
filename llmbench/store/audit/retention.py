"""File-level housekeeping after a retention purge: VACUUM, and the file's permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlite_utils import Database

PRIVATE_MODE = 0o600


def file_bytes(db: Database) -> int:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    return int(pages * db.execute("PRAGMA page_size").fetchone()[0])


def vacuum(db: Database) -> None:
    """Rebuild the file without the free pages a purge left. VACUUM cannot run inside a
    transaction, so this takes a reader's connection (never the writer's batch)."""
    if db.conn.in_transaction:
        raise RuntimeError("VACUUM needs a connection outside any transaction")
    db.conn.execute("VACUUM")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def checkpoint(db: Database) -> bool:
    """Copy the WAL into the file and truncate it, so pages a purge replaced are not left in the
    WAL's bytes. False when a reader still holds an older snapshot and the WAL was kept."""
    busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def keep_private(path: Path) -> int:
    """Make the database file and its WAL companions owner-only again if anything widened them;
    return the main file's mode afterwards."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and file_mode(candidate) != PRIVATE_MODE:
            os.chmod(candidate, PRIVATE_MODE)
    return file_mode(path)
