"""Opening a grading session: the reviewer's queue is built in a worker, then the session
screen is pushed (or the reviewer told there is nothing left). The Grade pane and the agreement
screen both start sessions from here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

    from llmbench.services.grading.queues import ItemBody, Mode, QueueSpec


def start_session(
    screen: Screen,
    rubric_id: int,
    mode: Mode,
    *,
    disagreements: bool = False,
    spec: QueueSpec | None = None,
) -> None:
    """Build the reviewer's queue in a worker, then open it for grading."""
    from llmbench.tui.app import LLMBenchApp

    app = screen.app
    assert isinstance(app, LLMBenchApp)
    store, reviewer, keeper = app.store, app.reviewer, app.drafts

    def build() -> None:
        from dataclasses import replace

        from llmbench.services import drafts as grading_drafts
        from llmbench.services.grading import queues as grading
        from llmbench.services.grading.session import GradingSession

        chosen = spec or grading.QueueSpec()
        if disagreements:
            chosen = replace(chosen, only_disagreements=True, only_ungraded=False)
        try:
            queue = grading.build_queue(store, rubric_id, reviewer, mode, chosen)
        except Exception as error:  # told, never fatal
            app.call_from_thread(app.notify, str(error), title="Grade", severity="error")
            return
        # Grades left in progress (levels, verdict, a note) when this queue was last open.
        prefix = grading_drafts.grade_prefix(rubric_id, mode, reviewer)
        kept = {draft.key[len(prefix) :]: draft.body for draft in keeper.read_under(prefix)}
        session = GradingSession(queue, kept=kept)
        # The first items' bodies are read here, with the queue: the screen opens with its item
        # drawn, in one layout, rather than "Loading…" and a second layout when they come.
        from llmbench.tui.screens.grade.session import keys_ahead

        ahead = keys_ahead(session)
        bodies = grading.item_bodies(store, ahead) if ahead else {}
        app.call_from_thread(open_session, app, session, bodies)

    screen.run_worker(build, thread=True, group="grade-queue", name="build grading queue")


def open_session(app: object, session: object, bodies: dict[str, ItemBody]) -> None:
    from llmbench.services.grading.session import GradingSession
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.grade.session import GradeSessionScreen

    assert isinstance(app, LLMBenchApp) and isinstance(session, GradingSession)
    if not session.entries:
        app.notify("Nothing left for you to grade in this queue.", title="Grade")
        return
    app.push_screen(GradeSessionScreen(session, bodies))
