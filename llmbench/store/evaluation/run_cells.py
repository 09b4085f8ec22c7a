"""Reads and small writes behind the evaluation engine: which cells of a run exist (to resume
with the rest), a run's saved plan, cases by id, and every finished cell as a scoreboard
record.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from llmbench.core.evaluation.scoreboard import CellRecord
from llmbench.core.models import Case
from llmbench.store.datasets import case_from_row
from llmbench.store.evaluation.runs import NewCheck, add_checks

CellKey = tuple[int | None, str, int | None, int]  # version id, model, case id, repeat


@dataclass(frozen=True)
class RunPlanRow:
    id: int
    kind: str
    name: str
    status: str
    config: dict[str, Any]
    baseline_run_id: int | None


def run_plan(db: Database, run_id: int) -> RunPlanRow | None:
    row = db.execute(
        "SELECT id, kind, name, status, config, baseline_run_id FROM runs WHERE id = ?", [run_id]
    ).fetchone()
    if row is None:
        return None
    return RunPlanRow(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


def reopen_run(db: Database, run_id: int) -> None:
    """A resumed run is running again until its missing cells are done."""
    db.execute("UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?", [run_id])


def cell_keys(db: Database, run_id: int) -> set[CellKey]:
    rows = db.execute(
        "SELECT version_id, model, case_id, repeat FROM results WHERE run_id = ?", [run_id]
    ).fetchall()
    return {(row[0], row[1], row[2], row[3]) for row in rows}


def cases_by_id(db: Database, case_ids: Sequence[int]) -> dict[int, Case]:
    found: dict[int, Case] = {}
    # In slices: SQLite caps the number of bound parameters of one statement.
    for start in range(0, len(case_ids), 500):
        chunk = list(case_ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            "SELECT id, dataset_id, vars, expected, tags, source, checks, params FROM cases"
            f" WHERE id IN ({marks})",
            chunk,
        ).fetchall()
        for row in rows:
            found[row[0]] = case_from_row(row)
    return found


def dataset_case_keys(db: Database, dataset_id: int) -> dict[tuple[str, str | None], int]:
    """Each case of a dataset by its content (vars as canonical JSON, expected), first id."""
    rows = db.execute(
        "SELECT id, vars, expected FROM cases WHERE dataset_id = ? ORDER BY id", [dataset_id]
    ).fetchall()
    keys: dict[tuple[str, str | None], int] = {}
    for case_id, raw_vars, expected in rows:
        keys.setdefault((canonical_json(json.loads(raw_vars)), expected), case_id)
    return keys


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def cell_records(db: Database, run_id: int) -> list[CellRecord]:
    """Every result of a run with its call's cost and latency and its checks, in the order the
    cells were planned (version, model, case, repeat)."""
    rows = db.execute(
        """
        WITH verdicts AS (
            SELECT result_id,
                   min(passed) AS passed,
                   avg(CASE WHEN kind = 'judge' THEN score END) AS judge_score,
                   avg(CASE WHEN kind = 'similarity-rouge-l' THEN score END) AS similarity,
                   avg(CASE WHEN kind = 'pairwise' THEN score END) AS pairwise,
                   json_group_array(CASE WHEN passed = 0 THEN kind || ': ' || detail END)
                       AS failures
            FROM checks WHERE result_id IN (SELECT id FROM results WHERE run_id = ?)
            GROUP BY result_id
        )
        SELECT r.id, r.version_id, coalesce(p.name || '@' || pv.version, ''), r.model, r.case_id,
               r.repeat, r.status, v.passed, r.score, v.judge_score,
               CASE WHEN r.status = 'ok' THEN c.cost END,
               CASE WHEN r.status = 'ok' THEN c.latency_ms END,
               coalesce(r.output, ''), v.failures, v.similarity, v.pairwise, r.tool_calls
        FROM results r
        LEFT JOIN verdicts v ON v.result_id = r.id
        LEFT JOIN calls c ON c.id = r.call_id
        LEFT JOIN prompt_versions pv ON pv.id = r.version_id
        LEFT JOIN prompts p ON p.id = pv.prompt_id
        WHERE r.run_id = ?
        ORDER BY r.version_id, r.model, r.case_id, r.repeat
        """,
        [run_id, run_id],
    ).fetchall()
    records = []
    for row in rows:
        failures = tuple(item for item in json.loads(row[13] or "[]") if item)
        if row[6] != "ok":
            failures = (f"error: {row[12]}", *failures)
        records.append(
            CellRecord(
                result_id=row[0],
                version_id=row[1],
                version_label=row[2],
                model=row[3],
                case_id=row[4],
                repeat=row[5],
                status=row[6],
                passed=None if row[7] is None else bool(row[7]),
                score=row[8],
                judge_score=row[9],
                cost=row[10],
                latency_ms=row[11],
                output=row[12],
                failures=failures,
                similarity=row[14],
                pairwise=row[15],
                tool_calls=_tool_calls(row[16]),
            )
        )
    return records


def _tool_calls(column: str | None) -> tuple[dict[str, str], ...]:
    items = json.loads(column) if column else []
    return tuple(
        {key: str(item.get(key, "")) for key in ("id", "name", "arguments")}
        for item in items
        if isinstance(item, dict)
    )


def scored_check_results(db: Database, run_id: int, kind: str) -> set[int]:
    """Results of the run that have a check of `kind` with a score (a verdict, not an
    error)."""
    rows = db.execute(
        "SELECT DISTINCT k.result_id FROM checks k JOIN results r ON r.id = k.result_id"
        " WHERE r.run_id = ? AND k.kind = ? AND k.score IS NOT NULL",
        [run_id, kind],
    ).fetchall()
    return {row[0] for row in rows}


def replace_result_check(db: Database, check: NewCheck) -> None:
    """Write check on its result in place of that result's earlier checks of the same kind
    (a verdict retried after an error replaces the error)."""
    db.execute("DELETE FROM checks WHERE result_id = ? AND kind = ?", [check.result_id, check.kind])
    add_checks(db, [check])
