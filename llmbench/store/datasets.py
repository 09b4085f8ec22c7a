"""Datasets of test cases: variables, an expected (golden) answer and tags.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from llmbench.core.models import Case
from llmbench.store.migrations import CASE_SOURCES
from llmbench.store.prompts import utc_now


@dataclass(frozen=True)
class NewCase:
    vars: Mapping[str, Any]
    expected: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    source: str = "manual"
    source_call_id: int | None = None
    created_at: str | None = None


def create_dataset(
    db: Database, name: str, *, description: str = "", created_at: str | None = None
) -> int:
    cursor = db.execute(
        "INSERT INTO datasets (name, description, created_at) VALUES (?, ?, ?)",
        [name, description, created_at or utc_now()],
    )
    return int(cursor.lastrowid)


def add_cases(db: Database, dataset_id: int, cases: Iterable[NewCase]) -> list[int]:
    """Insert cases in order and return their ids."""
    ids = []
    for case in cases:
        if case.source not in CASE_SOURCES:
            raise ValueError(f"unknown case source {case.source!r}")
        cursor = db.execute(
            "INSERT INTO cases (dataset_id, vars, expected, tags, source, source_call_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                dataset_id,
                json.dumps(dict(case.vars)),
                case.expected,
                json.dumps(dict(case.tags)),
                case.source,
                case.source_call_id,
                case.created_at or utc_now(),
            ],
        )
        ids.append(int(cursor.lastrowid))
    return ids


def add_case(db: Database, dataset_id: int, case: NewCase) -> int:
    return add_cases(db, dataset_id, [case])[0]


def dataset_id(db: Database, name: str) -> int | None:
    row = db.execute("SELECT id FROM datasets WHERE name = ?", [name]).fetchone()
    return None if row is None else int(row[0])


def list_cases(db: Database, dataset_id: int) -> list[Case]:
    rows = db.execute(
        "SELECT id, dataset_id, vars, expected, tags, source FROM cases WHERE dataset_id = ?"
        " ORDER BY id",
        [dataset_id],
    ).fetchall()
    return [
        Case(
            id=row[0],
            dataset_id=row[1],
            vars=json.loads(row[2]),
            expected=row[3],
            tags=json.loads(row[4]),
            source=row[5],
        )
        for row in rows
    ]
