"""Datasets of test cases: variables, an expected (golden) answer, tags and the case's own checks.

Write functions run inside a writer job (`Store.write`); readers take any connection. Nothing a
run's results point at is deleted: a case with results, or a dataset with cases, is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from llmbench.core.models import Case
from llmbench.store.schema.vocabulary import CASE_SOURCES
from llmbench.store.timestamps import utc_now

_CASE_COLUMNS = "id, dataset_id, vars, expected, tags, source, checks, params"


class DatasetError(ValueError):
    """A dataset or case change that is refused; the message says why and what to do."""


@dataclass(frozen=True)
class NewCase:
    vars: Mapping[str, Any]
    expected: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    source: str = "manual"
    source_call_id: int | None = None
    created_at: str | None = None
    checks: Sequence[Mapping[str, Any]] = ()  # core.checks' saved form (check_to_data)
    params: Mapping[str, Any] = field(default_factory=dict)  # its own tools, tool_choice (m018)


@dataclass(frozen=True)
class DatasetRow:
    id: int
    name: str
    description: str
    cases: int
    created_at: str


def create_dataset(
    db: Database, name: str, *, description: str = "", created_at: str | None = None
) -> int:
    if dataset_id(db, name) is not None:
        raise DatasetError(f"a dataset named {name!r} already exists")
    cursor = db.execute(
        "INSERT INTO datasets (name, description, created_at) VALUES (?, ?, ?)",
        [name, description, created_at or utc_now()],
    )
    return int(cursor.lastrowid)


def ensure_dataset(db: Database, name: str, *, description: str = "") -> tuple[int, bool]:
    """The dataset named `name`, created (with `description`) when there is none; and whether
    it was created."""
    found = dataset_id(db, name)
    if found is not None:
        return found, False
    return create_dataset(db, name, description=description), True


def add_cases(db: Database, dataset_id: int, cases: Iterable[NewCase]) -> list[int]:
    """Insert cases in order and return their ids."""
    ids = []
    for case in cases:
        if case.source not in CASE_SOURCES:
            raise ValueError(f"unknown case source {case.source!r}")
        cursor = db.execute(
            "INSERT INTO cases (dataset_id, vars, expected, tags, source, source_call_id,"
            " created_at, checks, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                dataset_id,
                json.dumps(dict(case.vars), ensure_ascii=False),
                case.expected,
                json.dumps(dict(case.tags), ensure_ascii=False),
                case.source,
                case.source_call_id,
                case.created_at or utc_now(),
                json.dumps([dict(check) for check in case.checks], ensure_ascii=False),
                json.dumps(dict(case.params), ensure_ascii=False),
            ],
        )
        ids.append(int(cursor.lastrowid))
    return ids


def add_case(db: Database, dataset_id: int, case: NewCase) -> int:
    return add_cases(db, dataset_id, [case])[0]


def dataset_id(db: Database, name: str) -> int | None:
    row = db.execute("SELECT id FROM datasets WHERE name = ?", [name]).fetchone()
    return None if row is None else int(row[0])


def list_datasets(db: Database) -> list[DatasetRow]:
    """Every dataset by name, with how many cases it holds."""
    rows = db.execute(
        "SELECT d.id, d.name, d.description, count(c.id), d.created_at FROM datasets d"
        " LEFT JOIN cases c ON c.dataset_id = d.id GROUP BY d.id ORDER BY d.name"
    ).fetchall()
    return [DatasetRow(row[0], row[1], row[2], row[3], row[4]) for row in rows]


def get_dataset(db: Database, dataset_id: int) -> DatasetRow | None:
    row = db.execute(
        "SELECT d.id, d.name, d.description, (SELECT count(*) FROM cases WHERE dataset_id = d.id),"
        " d.created_at FROM datasets d WHERE d.id = ?",
        [dataset_id],
    ).fetchone()
    return None if row is None else DatasetRow(row[0], row[1], row[2], row[3], row[4])


def case_from_row(row: Sequence[Any]) -> Case:
    """A case from its columns in table order (id, dataset_id, vars, expected, tags, source,
    checks, params)."""
    return Case(
        id=row[0],
        dataset_id=row[1],
        vars=json.loads(row[2]),
        expected=row[3],
        tags=json.loads(row[4]),
        source=row[5],
        checks=tuple(json.loads(row[6])),
        params=json.loads(row[7]),
    )


def list_cases(db: Database, dataset_id: int) -> list[Case]:
    rows = db.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE dataset_id = ? ORDER BY id", [dataset_id]
    ).fetchall()
    return [case_from_row(row) for row in rows]


def get_case(db: Database, case_id: int) -> Case | None:
    row = db.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", [case_id]).fetchone()
    return None if row is None else case_from_row(row)


def update_case(
    db: Database,
    case_id: int,
    *,
    vars: Mapping[str, Any],
    expected: str | None,
    tags: Mapping[str, str],
    checks: Sequence[Mapping[str, Any]],
) -> None:
    """Replace what a case holds; its results keep pointing at it (they record their output,
    not the case's values, so nothing they showed changes)."""
    cursor = db.execute(
        "UPDATE cases SET vars = ?, expected = ?, tags = ?, checks = ? WHERE id = ?",
        [
            json.dumps(dict(vars), ensure_ascii=False),
            expected,
            json.dumps(dict(tags), ensure_ascii=False),
            json.dumps([dict(check) for check in checks], ensure_ascii=False),
            case_id,
        ],
    )
    if cursor.rowcount == 0:
        raise DatasetError(f"no case with id {case_id}")


def case_results(db: Database, case_id: int) -> int:
    """How many results (cells of runs) point at the case."""
    return int(
        db.execute("SELECT count(*) FROM results WHERE case_id = ?", [case_id]).fetchone()[0]
    )


def delete_case(db: Database, case_id: int) -> None:
    """Delete a case no result points at; refuse (deleting nothing) when one does."""
    if get_case(db, case_id) is None:
        raise DatasetError(f"no case with id {case_id}")
    used = case_results(db, case_id)
    if used:
        raise DatasetError(
            f"case {case_id} has {used} result{'s' if used != 1 else ''} in runs; "
            "it is kept so those runs stay whole (edit it, or add a new case instead)"
        )
    db.execute("DELETE FROM cases WHERE id = ?", [case_id])


def rename_dataset(db: Database, dataset_id: int, name: str) -> None:
    name = name.strip()
    if not name:
        raise DatasetError("a dataset needs a name")
    taken = db.execute("SELECT id FROM datasets WHERE name = ?", [name]).fetchone()
    if taken is not None and taken[0] != dataset_id:
        raise DatasetError(f"a dataset named {name!r} already exists")
    cursor = db.execute("UPDATE datasets SET name = ? WHERE id = ?", [name, dataset_id])
    if cursor.rowcount == 0:
        raise DatasetError(f"no dataset with id {dataset_id}")


def describe_dataset(db: Database, dataset_id: int, description: str) -> None:
    cursor = db.execute(
        "UPDATE datasets SET description = ? WHERE id = ?", [description, dataset_id]
    )
    if cursor.rowcount == 0:
        raise DatasetError(f"no dataset with id {dataset_id}")


def delete_dataset(db: Database, dataset_id: int) -> None:
    """Delete an empty dataset; one with cases is refused (delete its cases first)."""
    found = get_dataset(db, dataset_id)
    if found is None:
        raise DatasetError(f"no dataset with id {dataset_id}")
    if found.cases:
        raise DatasetError(
            f"dataset {found.name!r} has {found.cases} case{'s' if found.cases != 1 else ''};"
            " only an empty dataset can be deleted"
        )
    db.execute("DELETE FROM datasets WHERE id = ?", [dataset_id])


@dataclass(frozen=True)
class ResultSource:
    """What promoting an evaluation result to a case needs to know of it."""

    id: int
    run_id: int
    case_id: int | None
    call_id: int | None
    output: str | None


def result_source(db: Database, result_id: int) -> ResultSource | None:
    row = db.execute(
        "SELECT id, run_id, case_id, call_id, output FROM results WHERE id = ?", [result_id]
    ).fetchone()
    return None if row is None else ResultSource(row[0], row[1], row[2], row[3], row[4])
