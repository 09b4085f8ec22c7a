"""Rubrics and the grades reviewers give against them.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from llmbench.core.grading.rubrics import GradingRubric, rubric_from_row
from llmbench.core.models import Rubric, RubricDimension
from llmbench.store.timestamps import utc_now


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


# -- rubrics as reviewers grade with them ----------------------------------------------------


def grading_rubrics(db: Database) -> list[GradingRubric]:
    rows = db.execute(
        "SELECT id, name, description, dimensions FROM rubrics ORDER BY name"
    ).fetchall()
    return [rubric_from_row(*row) for row in rows]


def grading_rubric(db: Database, rubric_id: int) -> GradingRubric | None:
    row = db.execute(
        "SELECT id, name, description, dimensions FROM rubrics WHERE id = ?", [rubric_id]
    ).fetchone()
    return None if row is None else rubric_from_row(*row)


def save_rubric(db: Database, rubric: GradingRubric, *, replace: bool = False) -> int:
    """Create the rubric, or (with `replace`) give an existing one of that name the new
    dimensions. Grades keep their scores: a dimension renamed away simply has none."""
    row = db.execute("SELECT id FROM rubrics WHERE name = ?", [rubric.name]).fetchone()
    if row is not None:
        if not replace:
            raise ValueError(f"a rubric named {rubric.name!r} exists (replace it to update it)")
        db.execute(
            "UPDATE rubrics SET description = ?, dimensions = ? WHERE id = ?",
            [rubric.description, rubric.to_json(), row[0]],
        )
        return int(row[0])
    cursor = db.execute(
        "INSERT INTO rubrics (name, description, dimensions, created_at) VALUES (?, ?, ?, ?)",
        [rubric.name, rubric.description, rubric.to_json(), utc_now()],
    )
    return int(cursor.lastrowid)


# -- one grade at a time, as the Grade pane writes them --------------------------------------


@dataclass
class GradeHandle:
    """Filled in by the writer thread when the grade lands, so an undo queued behind it (the
    writer runs jobs in order) can remove exactly that row."""

    grade_id: int | None = None


def insert_grade(db: Database, grade: NewGrade, handle: GradeHandle | None = None) -> int:
    add_grades(db, [grade])
    grade_id = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
    if handle is not None:
        handle.grade_id = grade_id
    return grade_id


def delete_grade(db: Database, handle: GradeHandle) -> bool:
    if handle.grade_id is None:
        return False
    db.execute("DELETE FROM grades WHERE id = ?", [handle.grade_id])
    handle.grade_id = None
    return True


@dataclass(frozen=True)
class StoredGrade:
    id: int
    kind: str  # "result" or "call"
    item_id: int
    reviewer: str
    scores: dict[str, Any]
    verdict: str | None
    note: str
    seconds: float
    mode: str
    created_at: str


_LATEST = """
    SELECT g.id, CASE WHEN g.result_id IS NOT NULL THEN 'result' ELSE 'call' END,
           coalesce(g.result_id, g.call_id), g.reviewer, g.scores, g.verdict, g.note,
           g.seconds, g.mode, g.created_at
    FROM grades g
    WHERE g.rubric_id = :rubric AND {where}
      AND g.id = (SELECT max(h.id) FROM grades h
                  WHERE h.rubric_id = g.rubric_id AND h.reviewer = g.reviewer
                    AND h.result_id IS g.result_id AND h.call_id IS g.call_id
                    AND (h.mode = 'pairwise') = (g.mode = 'pairwise'))
"""


def _stored(row: Sequence[Any]) -> StoredGrade:
    return StoredGrade(
        id=row[0],
        kind=row[1],
        item_id=row[2],
        reviewer=row[3],
        scores=json.loads(row[4]),
        verdict=row[5],
        note=row[6],
        seconds=row[7],
        mode=row[8],
        created_at=row[9],
    )


def latest_ratings(db: Database, rubric_id: int) -> list[StoredGrade]:
    """Each reviewer's latest grade of each item (pairwise preferences aside): a regrade
    replaces the earlier one, which stays in the table as history."""
    rows = db.execute(
        _LATEST.format(where="g.mode != 'pairwise'") + " ORDER BY g.id", {"rubric": rubric_id}
    ).fetchall()
    return [_stored(row) for row in rows]


def my_latest_grades(
    db: Database, rubric_id: int, reviewer: str
) -> dict[tuple[str, int], StoredGrade]:
    rows = db.execute(
        _LATEST.format(where="g.reviewer = :reviewer AND g.mode != 'pairwise'"),
        {"rubric": rubric_id, "reviewer": reviewer},
    ).fetchall()
    return {(grade.kind, grade.item_id): grade for grade in map(_stored, rows)}


def my_pairwise_pairs(db: Database, rubric_id: int, reviewer: str) -> set[tuple[int, int]]:
    """The (a, b) result pairs `reviewer` has stated a preference on."""
    rows = db.execute(
        "SELECT json_extract(scores, '$.pair_a'), json_extract(scores, '$.pair_b') FROM grades"
        " WHERE rubric_id = ? AND reviewer = ? AND mode = 'pairwise'",
        [rubric_id, reviewer],
    ).fetchall()
    return {(int(a), int(b)) for a, b in rows if a is not None and b is not None}


EXPORT_COLUMNS = (
    "id", "rubric", "reviewer", "mode", "item_kind", "item_id", "model", "prompt",
    "version", "scores", "verdict", "note", "seconds", "created_at",
)  # fmt: skip


def export_grades(db: Database, rubric_id: int | None = None) -> list[dict[str, Any]]:
    """Every grade row (history included), oldest first, with its rubric's name and what was
    graded, for CSV and JSONL export."""
    rows = db.execute(
        """
        SELECT g.id, ru.name, g.reviewer, g.mode,
               CASE WHEN g.result_id IS NOT NULL THEN 'result' ELSE 'call' END,
               coalesce(g.result_id, g.call_id), coalesce(res.model, c.model),
               p.name, v.version, g.scores, g.verdict, g.note, g.seconds, g.created_at
        FROM grades g
        JOIN rubrics ru ON ru.id = g.rubric_id
        LEFT JOIN results res ON res.id = g.result_id
        LEFT JOIN calls c ON c.id = g.call_id
        LEFT JOIN prompt_versions v ON v.id = coalesce(res.version_id, c.prompt_version_id)
        LEFT JOIN prompts p ON p.id = v.prompt_id
        WHERE :rubric IS NULL OR g.rubric_id = :rubric
        ORDER BY g.id
        """,
        {"rubric": rubric_id},
    ).fetchall()
    exported = []
    for row in rows:
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        record["scores"] = json.loads(record["scores"])
        exported.append(record)
    return exported


# -- what a reviewer's session remembers: the shuffle seed and where they stopped ------------


def _session_key(reviewer: str, rubric_id: int, mode: str, what: str) -> str:
    return f"grading:{rubric_id}:{mode}:{reviewer}:{what}"


def session_state(db: Database, reviewer: str, rubric_id: int, mode: str) -> dict[str, str]:
    """{"seed": ..., "position": "result:12"} as recorded by `record_session`."""
    prefix = _session_key(reviewer, rubric_id, mode, "")
    rows = db.execute(
        "SELECT key, value FROM meta WHERE key >= ? AND key < ?", [prefix, prefix + "\uffff"]
    ).fetchall()
    return {key[len(prefix) :]: value for key, value in rows}


def record_session(db: Database, reviewer: str, rubric_id: int, mode: str, **facts: str) -> None:
    """Kept in `meta` (no table of its own yet): the seed that shuffled a blind queue and the
    item a reviewer was on, so reopening shows the same order from the same place."""
    for what, value in facts.items():
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [_session_key(reviewer, rubric_id, mode, what), value],
        )
