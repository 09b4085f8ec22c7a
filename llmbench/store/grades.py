"""Rubrics and the grades reviewers give against them.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from llmbench.core.models import Rubric, RubricDimension
from llmbench.store.prompts import utc_now


@dataclass(frozen=True)
class NewGrade:
    rubric_id: int
    reviewer: str
    scores: Mapping[str, int] = field(default_factory=dict)
    verdict: str | None = None
    note: str = ""
    seconds: float = 0.0
    mode: str = "normal"
    call_id: int | None = None
    result_id: int | None = None
    created_at: str | None = None


def create_rubric(
    db: Database,
    name: str,
    dimensions: Sequence[Mapping[str, Any]],
    *,
    description: str = "",
    created_at: str | None = None,
) -> int:
    """`dimensions`: [{"name", "description", "levels": [one text per score, lowest first]}]."""
    for dimension in dimensions:
        if not dimension.get("name") or not dimension.get("levels"):
            raise ValueError("every rubric dimension needs a name and at least one level")
    cursor = db.execute(
        "INSERT INTO rubrics (name, description, dimensions, created_at) VALUES (?, ?, ?, ?)",
        [name, description, json.dumps([dict(d) for d in dimensions]), created_at or utc_now()],
    )
    return int(cursor.lastrowid)


def add_grades(db: Database, grades: Iterable[NewGrade]) -> int:
    rows = []
    for grade in grades:
        if grade.call_id is None and grade.result_id is None:
            raise ValueError("a grade is on a call or on a result")
        rows.append(
            (
                grade.call_id,
                grade.result_id,
                grade.rubric_id,
                grade.reviewer,
                json.dumps(dict(grade.scores)),
                grade.verdict,
                grade.note,
                grade.seconds,
                grade.mode,
                grade.created_at or utc_now(),
            )
        )
    db.conn.executemany(
        "INSERT INTO grades (call_id, result_id, rubric_id, reviewer, scores, verdict, note,"
        " seconds, mode, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def get_rubric(db: Database, name: str) -> Rubric | None:
    row = db.execute(
        "SELECT id, name, description, dimensions FROM rubrics WHERE name = ?", [name]
    ).fetchone()
    if row is None:
        return None
    return Rubric(
        id=row[0],
        name=row[1],
        description=row[2],
        dimensions=tuple(
            RubricDimension(
                name=item["name"],
                levels=tuple(item["levels"]),
                description=item.get("description", ""),
            )
            for item in json.loads(row[3])
        ),
    )
