"""Runs (compare / eval / migration), their result cells and the checks on those cells.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from llmbench.core.models import Run
from llmbench.store.schema.vocabulary import RUN_KINDS, RUN_STATUSES
from llmbench.store.timestamps import utc_now


@dataclass(frozen=True)
class NewResult:
    version_id: int | None
    model: str
    case_id: int | None
    call_id: int | None = None
    output: str | None = None
    status: str = "pending"
    score: float | None = None
    repeat: int = 0
    created_at: str | None = None
    # The answer's tool calls as JSON ([{"id", "name", "arguments"}], as calls.tool_calls keeps
    # them; since m013), None for an answer without any.
    tool_calls: str | None = None


@dataclass(frozen=True)
class NewCheck:
    kind: str
    passed: bool | None  # None: a measurement with no pass/fail (similarity, pairwise)
    score: float | None = None
    detail: str = ""
    weight: float = 1.0
    result_id: int | None = None
    call_id: int | None = None
    created_at: str | None = None


def create_run(
    db: Database,
    kind: str,
    *,
    name: str = "",
    config: Mapping[str, Any] | None = None,
    status: str = "pending",
    baseline_run_id: int | None = None,
    created_at: str | None = None,
) -> int:
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}")
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    cursor = db.execute(
        "INSERT INTO runs (kind, name, config, status, baseline_run_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            kind,
            name,
            json.dumps(dict(config or {})),
            status,
            baseline_run_id,
            created_at or utc_now(),
        ],
    )
    return int(cursor.lastrowid)


def finish_run(
    db: Database, run_id: int, status: str = "done", finished_at: str | None = None
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    db.execute(
        "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
        [status, finished_at or utc_now(), run_id],
    )


def add_results(db: Database, run_id: int, results: Iterable[NewResult]) -> list[int]:
    """Insert result cells in order and return their ids (one per run/version/model/case/repeat)."""
    ids = []
    for result in results:
        values = [
            run_id,
            result.version_id,
            result.model,
            result.case_id,
            result.repeat,
            result.call_id,
            result.output,
            result.status,
            result.score,
            result.created_at or utc_now(),
        ]
        columns = "run_id, version_id, model, case_id, repeat, call_id, output, status, score,"
        columns += " created_at"
        if result.tool_calls is not None:  # a file from before m013 takes every other cell
            columns += ", tool_calls"
            values.append(result.tool_calls)
        marks = ", ".join("?" * len(values))
        cursor = db.execute(f"INSERT INTO results ({columns}) VALUES ({marks})", values)
        ids.append(int(cursor.lastrowid))
    return ids


def add_checks(db: Database, checks: Iterable[NewCheck]) -> int:
    """Insert check outcomes, each on a result or a call. Returns how many were written."""
    rows = [
        (
            check.result_id,
            check.call_id,
            check.kind,
            None if check.passed is None else int(check.passed),
            check.score,
            check.weight,
            check.detail,
            check.created_at or utc_now(),
        )
        for check in checks
    ]
    db.conn.executemany(
        "INSERT INTO checks (result_id, call_id, kind, passed, score, weight, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def get_run(db: Database, run_id: int) -> Run | None:
    row = db.execute(
        "SELECT id, kind, name, status, created_at, finished_at FROM runs WHERE id = ?", [run_id]
    ).fetchone()
    if row is None:
        return None
    return Run(
        id=row[0], kind=row[1], name=row[2], status=row[3], created_at=row[4], finished_at=row[5]
    )
