"""Whole-file facts and checks: schema version, row counts, integrity; online backups."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

COUNTED_TABLES = (
    "prompts",
    "prompt_versions",
    "datasets",
    "cases",
    "runs",
    "results",
    "calls",
    "grades",
    "alerts",
)


@dataclass(frozen=True)
class DatabaseFacts:
    schema: list[str]
    pending: list[str]
    pragmas: dict[str, object]
    counts: dict[str, int]
    page_bytes: int


@dataclass(frozen=True)
class IntegrityReport:
    integrity: list[str]
    foreign_key_problems: list[tuple[object, ...]]

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.foreign_key_problems


PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete")


def pragma_values(db: Database) -> dict[str, object]:
    return {name: db.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}


def database_facts(db: Database) -> DatabaseFacts:
    page_count = db.execute("PRAGMA page_count").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    from llmbench.store.schema.migrations import migrations

    return DatabaseFacts(
        schema=[m.name for m in migrations.applied(db)],
        pending=[m.name for m in migrations.pending(db)],
        pragmas=pragma_values(db),
        counts={
            table: db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
            for table in COUNTED_TABLES
        },
        page_bytes=page_count * page_size,
    )


def check_integrity(db: Database) -> IntegrityReport:
    return IntegrityReport(
        integrity=[row[0] for row in db.execute("PRAGMA integrity_check").fetchall()],
        foreign_key_problems=[tuple(row) for row in db.execute("PRAGMA foreign_key_check")],
    )


def backup(db: Database, target: Path) -> None:
    """Copy the database into `target` (a new file, mode 0600) with SQLite's online backup
    API, while other connections go on writing. The copy is taken in one step inside one read
    transaction, so it is the file as of one commit, never a mix of two."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    destination = sqlite3.connect(target)
    try:
        db.conn.backup(destination)
    except BaseException:
        destination.close()
        target.unlink(missing_ok=True)
        raise
    destination.close()
