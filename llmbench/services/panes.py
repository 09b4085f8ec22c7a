"""What each TUI pane shows, read in one call from the caller's thread.

The TUI calls these from thread workers; each uses that thread's own connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.store import views
from llmbench.store.db import Store
from llmbench.store.views import (
    MatrixCell,
    QueueItem,
    QueueRow,
    RunRow,
)

# -- Compare ---------------------------------------------------------------------------------


def runs_overview(store: Store) -> list[RunRow]:
    return views.run_rows(store.read())


def run_matrix(store: Store, run_id: int) -> list[MatrixCell]:
    return views.run_matrix(store.read(), run_id)


# -- Grade -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingQueue:
    reviewer: str
    rubrics: list[QueueRow]

    @property
    def remaining(self) -> int:
        return sum(row.remaining for row in self.rubrics)


def grading_queue(store: Store, reviewer: str) -> GradingQueue:
    return GradingQueue(reviewer, views.grading_queue(store.read(), reviewer))


def next_to_grade(store: Store, rubric_id: int, reviewer: str) -> QueueItem | None:
    return views.next_ungraded(store.read(), rubric_id, reviewer)
