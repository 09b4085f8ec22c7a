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
    """What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` say. On some damage (a
    b-tree page that cannot be read) SQLite stops the check with an error instead of listing
    problems: that error is the finding, followed by the check of each table on its own, so
    the report names the tables that are damaged and those that are sound."""
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        # One row may hold several lines ("*** in database main ***" and the pages below it).
        integrity = [line for row in rows for line in str(row[0]).splitlines()]
    except sqlite3.DatabaseError as error:
        integrity = [f"the check stopped: {error}", *_per_table_integrity(db)]
    problems: list[tuple[object, ...]] = []
    try:
        problems = [tuple(row) for row in db.execute("PRAGMA foreign_key_check")]
    except sqlite3.DatabaseError as error:
        integrity = [line for line in integrity if line != "ok"]
        integrity.append(f"the foreign-key check stopped: {error}")
    return IntegrityReport(integrity=integrity, foreign_key_problems=problems)


def _per_table_integrity(db: Database) -> list[str]:
    try:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            ).fetchall()
        ]
    except sqlite3.DatabaseError as error:
        return [f"the schema cannot be read: {error}"]
    findings = []
    for table in tables:
        quoted = table.replace("'", "''")
        try:
            rows = db.execute(f"PRAGMA integrity_check('{quoted}')").fetchall()
            lines = [line for row in rows for line in str(row[0]).splitlines()]
        except sqlite3.DatabaseError as error:
            lines = [str(error)]
        findings.extend(f"{table}: {line}" for line in lines if line != "ok")
    return findings


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
