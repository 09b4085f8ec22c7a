"""Opening the database for the CLI and the TUI, and reporting on it."""

from __future__ import annotations

from pathlib import Path

from llmbench.store.db import Store, StoreError, open_db
from llmbench.store.maintenance import (
    DatabaseFacts,
    IntegrityReport,
    backup,
    check_integrity,
    database_facts,
)


def open_store(path: Path, *, create: bool = True) -> Store:
    return open_db(path, create=create)


def describe(store: Store) -> DatabaseFacts:
    return database_facts(store.read())


def verify_file(store: Store) -> IntegrityReport:
    return check_integrity(store.read())


def backup_to(store: Store, target: Path) -> Path:
    """An online copy of the database at `target`, checked before it is reported as good."""
    target = target.expanduser()
    if target.exists():
        raise StoreError(f"{target} already exists; pick a new file for the backup")
    if not target.parent.is_dir():
        raise StoreError(f"{target.parent} is not a folder")
    backup(store.read(), target)
    with open_db(target, create=False) as copy:
        report = check_integrity(copy.read())
    if not report.ok:
        raise StoreError(f"the backup at {target} failed its integrity check: {report.integrity}")
    return target
