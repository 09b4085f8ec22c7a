"""What the Compare pane shows of a run's finished cells: each output with the tokens, cost and
latency of its call, its checks' verdict and whether a guard flagged the call."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.core.models import ToolCall
from llmbench.store.evaluation.run_cells import CellKey


@dataclass(frozen=True)
class StoredCell:
    result_id: int
    key: CellKey
    status: str  # "ok" or "error"
    output: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    latency_ms: float | None
    passed: bool | None  # None: no checks
    score: float | None
    flagged: bool
    failures: tuple[str, ...]  # "kind: detail" of each failed check
    tool_calls: tuple[ToolCall, ...] = ()  # the tools the answer called (since m013)


def stored_cells(db: Database, run_id: int) -> list[StoredCell]:
    rows = db.execute(
        """
        WITH verdicts AS (
            SELECT result_id, min(passed) AS passed,
                   json_group_array(CASE WHEN passed = 0 THEN kind || ': ' || detail END)
                       AS failures
            FROM checks WHERE result_id IN (SELECT id FROM results WHERE run_id = ?)
            GROUP BY result_id
        )
        SELECT r.id, r.version_id, r.model, r.case_id, r.repeat, r.status,
               coalesce(r.output, ''), c.prompt_tokens, c.completion_tokens, c.cost,
               c.latency_ms, v.passed, r.score, coalesce(c.flagged, 0), v.failures,
               r.tool_calls
        FROM results r
        LEFT JOIN verdicts v ON v.result_id = r.id
        LEFT JOIN calls c ON c.id = r.call_id
        WHERE r.run_id = ?
        ORDER BY r.id
        """,
        [run_id, run_id],
    ).fetchall()
    return [
        StoredCell(
            result_id=row[0],
            key=(row[1], row[2], row[3], row[4]),
            status="ok" if row[5] == "ok" else "error",
            output=row[6],
            prompt_tokens=row[7],
            completion_tokens=row[8],
            cost=row[9],
            latency_ms=row[10],
            passed=None if row[11] is None else bool(row[11]),
            score=row[12],
            flagged=bool(row[13]),
            failures=tuple(item for item in json.loads(row[14] or "[]") if item),
            tool_calls=result_tool_calls(row[15]),
        )
        for row in rows
    ]


def result_tool_calls(column: str | None) -> tuple[ToolCall, ...]:
    """A result's `tool_calls` column read back (none for NULL or a value not of its form)."""
    try:
        items = json.loads(column) if column else []
    except ValueError:
        return ()
    return tuple(
        ToolCall(str(item.get("id", "")), str(item.get("name", "")), str(item.get("arguments", "")))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    )


def version_labels(db: Database, version_ids: list[int]) -> dict[int, str]:
    """ "support-reply@3" for each saved version id."""
    if not version_ids:
        return {}
    marks = ", ".join("?" * len(version_ids))
    rows = db.execute(
        f"SELECT pv.id, p.name || '@' || pv.version FROM prompt_versions pv"
        f" JOIN prompts p ON p.id = pv.prompt_id WHERE pv.id IN ({marks})",
        version_ids,
    ).fetchall()
    return {row[0]: row[1] for row in rows}


@dataclass(frozen=True)
class VersionChoice:
    id: int
    prompt: str
    version: int
    model: str
    labels: tuple[str, ...]
    variables: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        tags = f" [{', '.join(self.labels)}]" if self.labels else ""
        return f"{self.prompt}@{self.version}{tags}"


def version_choices(db: Database) -> list[VersionChoice]:
    """Every saved version, prompts by name and their newest versions first."""
    rows = db.execute(
        """
        SELECT pv.id, p.name, pv.version, pv.model,
               (SELECT json_group_array(l.label) FROM prompt_labels l WHERE l.version_id = pv.id),
               pv.variables
        FROM prompt_versions pv JOIN prompts p ON p.id = pv.prompt_id
        ORDER BY p.name, pv.version DESC
        """
    ).fetchall()
    return [
        VersionChoice(
            row[0],
            row[1],
            row[2],
            row[3] or "",
            tuple(sorted(json.loads(row[4]))),
            frozenset(variable["name"] for variable in json.loads(row[5] or "[]")),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DatasetChoice:
    id: int
    name: str
    cases: int
    variables: frozenset[str]  # the first case's: what the dataset's cases fill in


def dataset_choices(db: Database) -> list[DatasetChoice]:
    """Every dataset, by name."""
    rows = db.execute(
        """
        SELECT d.id, d.name, (SELECT count(*) FROM cases c WHERE c.dataset_id = d.id),
               (SELECT c.vars FROM cases c WHERE c.dataset_id = d.id ORDER BY c.id LIMIT 1)
        FROM datasets d ORDER BY d.name
        """
    ).fetchall()
    return [
        DatasetChoice(row[0], row[1], row[2], frozenset(json.loads(row[3] or "{}"))) for row in rows
    ]


def recent_models(db: Database, limit: int = 12) -> list[str]:
    """Models the latest runs used, newest first."""
    rows = db.execute(
        "SELECT model FROM results GROUP BY model ORDER BY max(id) DESC LIMIT ?", [limit]
    ).fetchall()
    return [row[0] for row in rows]
