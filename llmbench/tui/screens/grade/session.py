"""Grading a queue by keystroke: the item on the left, the rubric with the active dimension's
anchored levels on the right, progress on top. Every key is one binding with an id (F1 lists
them); every grade goes to the store's writer the moment it is complete: every dimension and
the verdict set, in any order (services.grading.session).

A grade in progress (levels, verdict, note) is kept as a draft in the database while it is
typed, a note at once, so quitting mid-item loses nothing: the queue opens with it again. The
grade's write deletes its draft in the same transaction. The progress line counts a grade once
the writer says it landed; a grade the file refused is told and not counted.

Item bodies are read in a worker a batch ahead of the reviewer, so moving on never waits on
SQLite; a write is queued on the writer thread (`Store.submit`) and never waited for.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Header, Static

from llmbench.tui.format import model_label
from llmbench.tui.screens.dialogs import Unsaved
from llmbench.tui.screens.grade.item_parts import AnchorsScreen, Part, duration, io_parts, text_of
from llmbench.tui.screens.grade.pair_view import PairView, show_content
from llmbench.tui.screens.pushed import PushedScreen
from llmbench.tui.widgets import laid_out
from llmbench.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from llmbench.services.grading.queues import Entry, Queue
    from llmbench.services.grading.session import Draft, Effect, GradingSession
    from llmbench.store.grading.queue import ItemBody
    from llmbench.tui.app import LLMBenchApp

PREFETCH = 24
"""Item bodies read ahead of the reviewer, in one query."""


def _level_bindings() -> list[Binding]:
    return [
        Binding(str(digit), f"level('{digit}')", "Score", show=digit == 1, key_display="0-9",
                id=f"grade_level_{digit}")
        for digit in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)
    ]  # fmt: skip


class GradeSessionScreen(PushedScreen[None]):
    BINDINGS = [
        *_level_bindings(),
        Binding("tab", "dimension(1)", "Next dim", priority=True, id="grade_next_dimension"),
        Binding("shift+tab", "dimension(-1)", "Prev dim", show=False, priority=True,
                id="grade_previous_dimension"),
        Binding("y", "verdict('pass')", "Pass (completes with every level)", id="grade_pass"),
        Binding("n", "verdict('fail')", "Fail (completes with every level)", id="grade_fail"),
        Binding("a", "prefer('left')", "Left better", show=False, id="grade_prefer_left"),
        Binding("b", "prefer('right')", "Right better", show=False, id="grade_prefer_right"),
        Binding("equals_sign", "prefer('tie')", "Tie", show=False, key_display="=",
                id="grade_prefer_tie"),
        Binding("s", "skip", "Skip", id="grade_skip"),
        Binding("u", "undo", "Undo", id="grade_undo"),
        Binding("N", "note", "Note", key_display="N", id="grade_note"),
        Binding("j", "move(1)", "Next", show=False, id="grade_next_item"),
        Binding("k", "move(-1)", "Previous", show=False, id="grade_previous_item"),
        Binding("question_mark", "anchors", "Anchors", key_display="?", id="grade_anchors"),
        Binding("escape", "leave", "Back", id="grade_back"),
    ]  # fmt: skip

    DEFAULT_CSS = """
    GradeSessionScreen {
        #grade-progress { height: 1; padding: 0 1; background: $boost; }
        #grade-columns { height: 1fr; }
        /* The scrollbars always show: one that came and went with an item's length would
           change the text's room, and lay the screen out a second time (laid_out.py). */
        #grade-item { width: 2fr; padding: 0 1; overflow-y: scroll; }
        #grade-right {
            width: 1fr; min-width: 36; border-left: tall $primary 30%; padding: 0 1;
            overflow-y: scroll;
        }
        #grade-pair { display: none; }
        /* A pair's keys are in its header: the replies take the rubric panel's room. */
        &.-pair #grade-pair { display: block; }
        &.-pair #grade-right { display: none; }
    }
    """

    def __init__(self, session: GradingSession, bodies: dict[str, ItemBody] | None = None) -> None:
        super().__init__()
        self.session = session
        self.bodies: dict[str, ItemBody] = dict(bodies or {})
        """Item bodies read so far: the first ones (`keys_ahead`) come with the session."""
        self._requested: set[str] = set(self.bodies)
        queue = session.queue
        self.title = f"Grade · {queue.rubric.name}"
        self.sub_title = f"{queue.mode} mode · {queue.reviewer}"
        self.write_errors: list[str] = []
        self.pending_writes: list[Future[Any]] = []
        self.not_saved: set[str] = set()
        """Items whose grade the file refused (shown as such until graded again)."""
        self._shown_key: str | None = None
        """The item on screen, scrolled to its top when it was first shown."""

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    @property
    def queue(self) -> Queue:
        return self.session.queue

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="grade-progress", markup=False)
        with Horizontal(id="grade-columns"):
            # Sized by the layout alone: a new item is one layout, not two (laid_out.py).
            with laid_out.VerticalScroll(id="grade-item"):
                yield laid_out.Static("", id="grade-item-text")
                yield PairView(id="grade-pair")
            with laid_out.VerticalScroll(id="grade-right"):
                yield laid_out.Static("", id="grade-rubric-text")
        yield PaneFooter()

    def on_mount(self) -> None:
        self.bench.hold_work(self)
        self._prefetch()
        self.refresh_view()

    def on_unmount(self) -> None:
        self.bench.release_work(self)

    # -- actions ---------------------------------------------------------------------------

    def action_level(self, key: str) -> None:
        self._after(self.session.level(key), self._key())

    def action_dimension(self, step: int) -> None:
        self.session.dimension_step(step)
        self.refresh_view()

    def action_verdict(self, verdict: str) -> None:
        self._after(self.session.verdict(verdict), self._key())

    def action_prefer(self, side: str) -> None:
        self._after(self.session.prefer(side), self._key())

    def action_skip(self) -> None:
        self.session.skip()
        self._after([])

    def action_undo(self) -> None:
        if not self.session.can_undo:
            self.notify("Nothing to undo.", timeout=2)
            return
        self._after(self.session.undo())

    def action_move(self, step: int) -> None:
        self.session.move(step)
        self._after([])

    def action_note(self) -> None:
        from llmbench.tui.screens.dialogs import Field, FormDialog

        entry = self.session.current
        if entry is None:
            return
        key = entry.key
        current = self.session.draft().note

        def typing(values: dict[str, str]) -> None:
            # Kept while it is typed, beside the levels and verdict given so far.
            if not self.session.draft(entry).written:
                body = {**self.session.draft(entry).kept(), "note": values["note"].strip()}
                self.bench.drafts.put(self._draft_key(key), "grade", body)

        def done(values: dict[str, str] | None) -> None:
            if values is None:  # cancelled: the note stays as it was
                self._keep(key)
                return
            self._after(self.session.note(values["note"].strip()), key, at_once=True)

        self.app.push_screen(
            FormDialog(
                "Note on this item", [Field("note", "Note", current)], submit="Keep",
                on_change=typing,
            ),
            done,
        )  # fmt: skip

    def action_anchors(self) -> None:
        self.app.push_screen(AnchorsScreen(self.queue))

    def action_leave(self) -> None:
        self.keep_drafts()
        self.dismiss(None)

    # -- HoldsWork: grades in progress, kept as drafts -------------------------------------

    def _draft_key(self, item_key: str) -> str:
        from llmbench.services.drafts import grade_key

        return grade_key(self.queue.rubric.id or 0, self.queue.mode, self.queue.reviewer, item_key)

    def _in_progress(self) -> dict[str, Draft]:
        return {
            key: draft
            for key, draft in self.session.drafts.items()
            if draft.started and not draft.written and not key.startswith("pair:")
        }

    def unsaved_work(self) -> list[Unsaved]:
        drafts = self._in_progress()
        if not drafts:
            return []
        notes = sum(1 for draft in drafts.values() if draft.note)
        what = f"{len(drafts)} grade{'s' if len(drafts) != 1 else ''} in progress"
        if notes:
            what += f" ({notes} with a note)"
        return [Unsaved(f"{what} in {self.queue.rubric.name}, {self.queue.mode} mode")]

    def keep_drafts(self) -> None:
        keeper = self.bench.drafts
        for key in self._in_progress():
            self._keep(key)
            keeper.flush(self._draft_key(key))

    def discard_drafts(self) -> None:
        for key in self._in_progress():
            self.bench.drafts.discard(self._draft_key(key))

    def _keep(self, item_key: str, *, at_once: bool = False) -> None:
        """Bring the draft of `item_key` in line with the session: kept while in progress,
        gone once there is nothing to keep (a written grade deletes it with its own write)."""
        if item_key.startswith("pair:") or not item_key:
            return
        draft = self.session.drafts.get(item_key)
        keeper, key = self.bench.drafts, self._draft_key(item_key)
        if draft is None or not draft.started:
            keeper.discard(key)
        elif not draft.written:
            if at_once:
                keeper.keep_now(key, "grade", draft.kept())
            else:
                keeper.put(key, "grade", draft.kept())

    # -- effects ---------------------------------------------------------------------------

    def _key(self) -> str:
        current = self.session.current
        return current.key if current is not None else ""

    def _after(self, effects: list[Effect], touched: str = "", *, at_once: bool = False) -> None:
        from llmbench.services.grading.queues import record_session, submit_grade, submit_ungrade
        from llmbench.services.grading.session import Write

        store = self.bench.store
        for effect in effects:
            if isinstance(effect, Write):
                draft_key = self._draft_key(effect.key)
                self.bench.drafts.forget(draft_key)  # the grade's own write deletes it
                self.not_saved.discard(effect.key)
                future = submit_grade(store, effect.grade, effect.handle, draft_key=draft_key)
                future.add_done_callback(
                    lambda done, key=effect.key, handle=effect.handle: self._written(
                        done, key, handle
                    )
                )
            else:
                future = submit_ungrade(store, effect.handle)
                future.add_done_callback(lambda done: self._written(done, "", None))
            self.pending_writes.append(future)
        self.pending_writes = [f for f in self.pending_writes if not f.done()]
        current = self.session.current
        for key in dict.fromkeys((touched, current.key if current is not None else "")):
            self._keep(key, at_once=at_once and key == touched)
        record_session(store, self.queue, current.key if current is not None else None)
        self._prefetch()
        self.refresh_view()

    def _written(self, future: Future[Any], key: str, handle: Any) -> None:
        # Runs on the writer thread: hand the outcome to the UI thread without waiting for it
        # (call_from_thread would hold the writer, and every write queued behind this grade,
        # until the UI is free). Posting to a closed screen does nothing.
        error = future.exception()
        if error is not None:
            self.write_errors.append(str(error))
        self.call_later(self._settled, key, handle, error)

    def _settled(self, key: str, handle: Any, error: BaseException | None) -> None:
        if handle is not None:
            if error is None:
                self.session.landed(key, handle)
            else:
                self.session.refused(key, handle)
                self.not_saved.add(key)
        if error is not None:
            self.notify(str(error), title="Grade not saved", severity="error")
        self.refresh_view()

    # -- reading ahead ---------------------------------------------------------------------

    def _prefetch(self) -> None:
        ahead = keys_ahead(self.session)
        # Read again only when the next few items are not already asked for.
        if all(key in self._requested for key in ahead[: max(len(ahead) // 2, 1)]):
            return
        wanted = [key for key in ahead if key not in self._requested]
        wanted += [
            key
            for entry in self.session.entries[
                self.session.position + PREFETCH : self.session.position + 2 * PREFETCH
            ]
            for key in _item_keys(entry)
            if key not in self._requested
        ]
        self._requested.update(wanted)
        from llmbench.services.grading import queues as grading

        store = self.bench.store
        self.run_worker(
            lambda: self._read_bodies(grading, store, wanted),
            thread=True,
            group="grade-bodies",
            name="read item bodies",
        )

    def _read_bodies(self, grading: Any, store: Any, keys: list[str]) -> None:
        bodies = grading.item_bodies(store, keys)
        self.app.call_from_thread(self._show_bodies, bodies)

    def _show_bodies(self, bodies: dict[str, ItemBody]) -> None:
        self.bodies.update(bodies)
        current = self.session.current
        if current is not None and any(key in bodies for key in _item_keys(current)):
            self.refresh_view()

    # -- drawing ---------------------------------------------------------------------------

    def refresh_view(self) -> None:
        # Only the texts that changed are set: each update draws its text anew, and a grade
        # that lands (`_settled`) changes the progress line and at most the rubric. The
        # progress line is one line as wide as the screen: its size never changes, so it
        # needs no layout.
        show_content(
            self.query_one("#grade-progress", Static), Content(self._progress_line()), layout=False
        )
        entry = self.session.current
        item = self.query_one("#grade-item-text", Static)
        rubric = self.query_one("#grade-rubric-text", Static)
        self._show_pair(entry)
        if entry is None:
            show_content(
                item,
                Content.assemble(
                    ("Queue done. ", "bold"),
                    "Every item here is graded or skipped: u takes the last step back, "
                    "k goes to the previous item, escape returns to the queues.",
                ),
            )
            show_content(rubric, Content(""))
            return
        show_content(item, self._render_entry(entry))
        show_content(rubric, self._render_rubric(entry))
        if entry.key != self._shown_key:  # a new item starts at its top
            self._shown_key = entry.key
            self.query_one("#grade-item", VerticalScroll).scroll_home(animate=False)

    def _progress_line(self) -> str:
        progress = self.session.progress()
        parts = [f"{progress.done} / {progress.total} done"]
        if self.queue.graded_before:
            parts.append(f"{self.queue.graded_before} graded earlier")
        parts.append(
            f"{progress.per_minute:.1f} items/min" if progress.per_minute else "– items/min"
        )
        if progress.minutes_left is not None:
            parts.append(f"about {duration(progress.minutes_left)} to finish")
        position = min(self.session.position + 1, progress.total)
        parts.append(f"item {position} of {progress.total}")
        if self.queue.mode != "normal":
            parts.append(f"seed {self.queue.seed}")
        return "   ·   ".join(parts)

    def _render_entry(self, entry: Entry) -> Content:
        from llmbench.services.grading.queues import Pair

        if isinstance(entry, Pair):
            return self._render_pair(entry)
        body = self.bodies.get(entry.key)
        parts: list[Part] = []
        reason = self.queue.reasons.get(entry.key)
        if reason:
            parts += [(f"⚑ {reason}", "bold $warning"), "   "]
        if self.queue.mode == "blind":
            parts += [(f"item {entry.kind} · blind", "dim")]
        else:
            parts += [
                (
                    f"{body.source if body else entry.kind} · {entry.version or 'no prompt'} · ",
                    "dim",
                ),
                (model_label(entry.model), "bold"),
            ]
        parts.append("\n\n")
        if body is None:
            parts.append(("Loading…", "dim"))
            return Content.assemble(*parts)
        parts += io_parts(body, blind=self.queue.mode == "blind")
        draft = self.session.draft()
        if draft.note:
            parts += ["\n", ("NOTE  ", "bold $text-accent"), draft.note, "\n"]
        return Content.assemble(*parts)

    def _show_pair(self, entry: Entry | None) -> None:
        """The two replies of a pair in their columns (PairView); any other item hides them."""
        from llmbench.services.grading.queues import Pair

        self.set_class(isinstance(entry, Pair), "-pair")
        view = self.query_one("#grade-pair", PairView)
        left = right = None
        if isinstance(entry, Pair):
            left, right = self.bodies.get(entry.left.key), self.bodies.get(entry.right.key)
        if left is None or right is None:
            view.clear()
        else:
            view.show(left.output, right.output)

    def _render_pair(self, pair: Any) -> Content:
        left, right = self.bodies.get(pair.left.key), self.bodies.get(pair.right.key)
        parts: list[Part] = [
            ("Which reply is better?  ", "bold"),
            ("a left · b right · = tie", "dim"),
            "\n",
            ("Sides are drawn at random per pair and recorded with the grade.", "dim"),
            "\n\n",
        ]
        if left is None or right is None:
            parts.append(("Loading…", "dim"))
            return Content.assemble(*parts)
        for name, value in left.inputs.items():
            parts += [(f"{name}: ", "dim"), text_of(value), "\n"]
        return Content.assemble(*parts)

    def _render_rubric(self, entry: Entry) -> Content:
        from llmbench.services.grading.queues import Pair

        if isinstance(entry, Pair):
            return Content("")  # the panel is hidden for a pair: its keys are in its header
        draft = self.session.draft()
        active = self.session.active_dimension
        parts: list[Part] = []
        for dimension in self.session.dimensions:
            score = draft.scores.get(dimension.name)
            level = dimension.level_for_score(score)
            marker = "▶ " if dimension is active else "  "
            shown = f"{level.key} {level.label}" if level else "·"
            style = "bold reverse" if dimension is active else ""
            parts += [(f"{marker}{dimension.name}", style), "  ", (shown, "$success"), "\n"]
        verdict = draft.verdict or "·"
        parts += [("  verdict", ""), "  ", (verdict, "$success"), "   (y / n)\n"]
        if self.session.awaiting_verdict:
            parts += [("  y pass or n fail finishes this item", "bold $warning"), "\n"]
        if entry.key in self.not_saved:
            parts += [("  ✗ not saved: the database refused it", "bold $error"), "\n"]
        elif draft.saved:
            parts += [("  ✓ saved", "$success"), "\n"]
        if active is not None:
            parts += ["\n", (active.name.upper(), "bold $text-accent"), "\n"]
            if active.description:
                parts += [(active.description, "italic"), "\n"]
            for level in active.levels:
                chosen = draft.scores.get(active.name) == level.score
                parts += [
                    (f" {level.key} ", "bold reverse" if chosen else "bold"),
                    f" {level.label}\n",
                ]
                if level.example:
                    parts += [(f"     e.g. {level.example}", "dim"), "\n"]
        return Content.assemble(*parts)


def keys_ahead(session: GradingSession) -> list[str]:
    """The keys of the items just behind and ahead of the reviewer, whose bodies are wanted."""
    start = max(session.position - 1, 0)
    return [
        key for entry in session.entries[start : session.position + PREFETCH]
        for key in _item_keys(entry)
    ]  # fmt: skip


def _item_keys(entry: Entry) -> list[str]:
    from llmbench.services.grading.queues import Pair

    return [entry.a.key, entry.b.key] if isinstance(entry, Pair) else [entry.key]
