"""What each TUI pane shows, read in one call from the caller's thread.

The TUI calls these from thread workers; each uses that thread's own connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmbench.store.prompts import library as prompt_library_queries
from llmbench.store.prompts.library import LibraryRow
from llmbench.store.prompts.library import search as search  # F2 filters what it read

if TYPE_CHECKING:  # F2's first read imports this module: it loads only what that read needs
    from llmbench.services.grading.queues import QueueSpec, RubricCount
    from llmbench.store.db import Store
    from llmbench.store.interrupts import ReadInterrupt
    from llmbench.store.views import MatrixCell, QueueItem, RunRow

# -- Prompts ---------------------------------------------------------------------------------


def prompt_library(store: Store) -> list[LibraryRow]:
    """F2's first read, the library, as `services.prompts.library.library` reads it, without
    loading that module: its templates and previews (jinja2, ~100 ms of imports) are for the
    history and the editor, which come after the library is on screen. `search` filters it."""
    return prompt_library_queries.library(store.connection())  # no sqlite_utils to import


def interruptible(store: Store) -> ReadInterrupt:
    """The handle that lets a pane stop the read this thread is about to run on `store`, once
    the pane is left or the read replaced (`store.interrupts`)."""
    from llmbench.store.interrupts import ReadInterrupt

    return ReadInterrupt(store)


# -- Compare ---------------------------------------------------------------------------------


def runs_overview(store: Store) -> list[RunRow]:
    from llmbench.store import views

    return views.run_rows(store.read())


def run_matrix(store: Store, run_id: int) -> list[MatrixCell]:
    from llmbench.store import views

    return views.run_matrix(store.read(), run_id)


# -- Grade -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingQueue:
    reviewer: str
    rubrics: list[RubricCount]

    @property
    def remaining(self) -> int:
        return sum(row.remaining for row in self.rubrics)


def grading_queue(store: Store, reviewer: str, spec: QueueSpec | None = None) -> GradingQueue:
    """Counted as the queues are built (services.grading.queues), so they agree."""
    from llmbench.services.grading.queues import rubric_counts

    return GradingQueue(reviewer, rubric_counts(store, reviewer, spec))


def next_to_grade(
    store: Store, rubric_id: int, reviewer: str, spec: QueueSpec | None = None
) -> QueueItem | None:
    from llmbench.services.grading.queues import next_item

    return next_item(store, rubric_id, reviewer, spec)
