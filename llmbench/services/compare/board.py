"""A run as the Compare pane lays it out: prompt version × model columns, case × repeat rows,
and each cell's state, kept current while the run streams.

The board is the one object the run's worker and the pane share. The gateway's event loop
thread records into it (as the run's CellWatcher) under a lock; the pane reads a copy of the
cells it shows and the keys changed since its last look, on a timer. So the run never waits
for the screen and the screen never waits for the run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from llmbench.config import Settings
from llmbench.services.compare.draft_run import draft_cells, is_draft_run
from llmbench.services.evaluation.cells import Cell, CellOutcome, shown_output
from llmbench.services.evaluation.engine import EvalError, run_layout
from llmbench.store.db import Store
from llmbench.store.evaluation.compare_cells import StoredCell, stored_cells, version_labels
from llmbench.store.evaluation.run_cells import CellKey, cases_by_id, run_plan

CellStatus = Literal["pending", "running", "ok", "error"]


@dataclass(frozen=True)
class CellState:
    status: CellStatus = "pending"
    text: str = ""  # the output so far, or the error
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    passed: bool | None = None  # None: not graded (yet)
    score: float | None = None
    result_id: int | None = None
    flagged: bool = False
    failures: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in ("ok", "error")


@dataclass(frozen=True)
class Column:
    """One prompt version × model."""

    version_id: int | None
    model: str
    label: str  # "support-reply@3", or "draft" for an unsaved one


@dataclass(frozen=True)
class Row:
    """One case × repeat."""

    case_id: int | None
    repeat: int
    values: Mapping[str, object]
    expected: str | None

    @property
    def title(self) -> str:
        shown = "  ".join(f"{name}={value}" for name, value in self.values.items())
        return shown or "(no variables)"


@dataclass(frozen=True)
class Progress:
    total: int
    finished: int
    running: int
    errors: int
    passed: int
    graded: int


class RunBoard:
    def __init__(
        self,
        run_id: int,
        name: str,
        columns: Sequence[Column],
        rows: Sequence[Row],
        states: Mapping[CellKey, CellState],
        *,
        resumable: bool,
    ) -> None:
        self.run_id = run_id
        self.name = name
        self.columns = tuple(columns)
        self.rows = tuple(rows)
        self.resumable = resumable  # the run has a saved plan to run its missing cells from
        self._states: dict[CellKey, CellState] = dict(states)
        self._changed: set[CellKey] = set()
        self._lock = threading.Lock()
        # The case × repeat on screen, whose cells stream; None when no output is on screen.
        # Set by the screen, read by the run: one reference, so no lock is needed.
        self.watched: tuple[int | None, int] | None = None

    @staticmethod
    def key(column: Column, row: Row) -> CellKey:
        return (column.version_id, column.model, row.case_id, row.repeat)

    def state(self, column: Column, row: Row) -> CellState:
        with self._lock:
            return self._states.get(self.key(column, row), CellState())

    def take_changes(self) -> set[CellKey]:
        """The keys changed since the last call."""
        with self._lock:
            changed, self._changed = self._changed, set()
        return changed

    def progress(self) -> Progress:
        with self._lock:
            states = list(self._states.values())
        total = len(self.columns) * len(self.rows)
        graded = [state for state in states if state.passed is not None]
        return Progress(
            total=total,
            finished=sum(state.finished for state in states),
            running=sum(state.status == "running" for state in states),
            errors=sum(state.status == "error" for state in states),
            passed=sum(bool(state.passed) for state in graded),
            graded=len(graded),
        )

    @property
    def missing(self) -> int:
        progress = self.progress()
        return progress.total - progress.finished

    def settle(self, stored: Sequence[StoredCell] = ()) -> None:
        """After a run stops: cells left running were never acknowledged, so they are pending
        again (a resume runs them); the finished ones take what was stored with them, such as
        a guard's flag on their call, which the live answer does not carry."""
        found = {cell.key: _state(cell) for cell in stored}
        with self._lock:
            for key, state in self._states.items():
                if state.status == "running":
                    self._states[key] = CellState()
                    self._changed.add(key)
            for key, state in found.items():
                if self._states.get(key) != state:
                    self._states[key] = state
                    self._changed.add(key)

    # -- CellWatcher: called on the gateway's loop thread --------------------------------------

    def streams(self, cell: Cell) -> bool:
        return self.watched == (cell.case_id, cell.repeat)

    def started(self, cell: Cell) -> None:
        self._set(cell.key, CellState(status="running"))

    def chunk(self, cell: Cell, text: str) -> None:
        with self._lock:
            state = self._states.get(cell.key, CellState(status="running"))
            self._states[cell.key] = replace(state, text=state.text + text)
            self._changed.add(cell.key)

    def finished(self, outcome: CellOutcome) -> None:
        answer, grade = outcome.answer, outcome.grade
        self._set(
            outcome.cell.key,
            CellState(
                status="ok" if answer.ok else "error",
                text=shown_output(answer.output, answer.tool_calls),
                prompt_tokens=answer.prompt_tokens if answer.ok else None,
                completion_tokens=answer.completion_tokens if answer.ok else None,
                cost=answer.cost,
                latency_ms=answer.latency_ms,
                passed=grade.passed,
                score=grade.score,
                result_id=outcome.result_id,
                failures=tuple(
                    f"{check.kind}: {check.detail}" for check in grade.checks if not check.passed
                ),
            ),
        )

    def _set(self, key: CellKey, state: CellState) -> None:
        with self._lock:
            self._states[key] = state
            self._changed.add(key)


def load_board(store: Store, settings: Settings, run_id: int) -> RunBoard:
    """The run's layout from its saved plan (or, for runs without one, from the cells it has)
    with every finished cell filled in."""
    db = store.read()
    plan = run_plan(db, run_id)
    if plan is None:
        raise EvalError(f"no run with id {run_id}")
    stored = stored_cells(db, run_id)
    planned: list[Cell] | None
    if is_draft_run(plan.config):  # the editor's draft against a saved version
        planned = draft_cells(store, run_id)
    else:
        try:
            planned = run_layout(store, settings, run_id)
        except EvalError:
            planned = None  # an imported run: no plan to resume from
    keys: Iterable[CellKey] = (
        [cell.key for cell in planned] if planned is not None else [cell.key for cell in stored]
    )
    columns, rows = _layout(store, list(keys))
    return RunBoard(
        run_id,
        plan.name or f"run {run_id}",
        columns,
        rows,
        {cell.key: _state(cell) for cell in stored},
        resumable=planned is not None,
    )


def _layout(store: Store, keys: Sequence[CellKey]) -> tuple[list[Column], list[Row]]:
    db = store.read()
    version_ids = sorted({key[0] for key in keys if key[0] is not None})
    labels = version_labels(db, version_ids)
    cases = cases_by_id(db, sorted({key[2] for key in keys if key[2] is not None}))
    columns = {
        (key[0], key[1]): Column(
            key[0], key[1], labels.get(key[0], "?") if key[0] is not None else "draft"
        )
        for key in keys
    }
    rows: dict[tuple[int | None, int], Row] = {}
    for key in keys:
        case = cases.get(key[2]) if key[2] is not None else None
        rows.setdefault(
            (key[2], key[3]),
            Row(key[2], key[3], case.vars if case else {}, case.expected if case else None),
        )
    return list(columns.values()), list(rows.values())


def _state(cell: StoredCell) -> CellState:
    return CellState(
        status="ok" if cell.status == "ok" else "error",
        text=shown_output(cell.output, cell.tool_calls),
        prompt_tokens=cell.prompt_tokens,
        completion_tokens=cell.completion_tokens,
        cost=cell.cost,
        latency_ms=cell.latency_ms,
        passed=cell.passed,
        score=cell.score,
        result_id=cell.result_id,
        flagged=cell.flagged,
        failures=cell.failures,
    )
