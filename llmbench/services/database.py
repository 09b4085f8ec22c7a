"""Opening the database for the CLI and the TUI, and reporting on it."""

from __future__ import annotations

from pathlib import Path

from llmbench.store.db import Store, open_db
from llmbench.store.maintenance import (
    DatabaseFacts,
    IntegrityReport,
    check_integrity,
    database_facts,
)


def open_store(path: Path, *, create: bool = True) -> Store:
    return open_db(path, create=create)


def describe(store: Store) -> DatabaseFacts:
    return database_facts(store.read())


def verify_file(store: Store) -> IntegrityReport:
    return check_integrity(store.read())
