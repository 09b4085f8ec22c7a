"""Grading a queue by keystroke: the item on the left, the rubric with the active dimension's
anchored levels on the right, progress on top. Every key is one binding with an id (F1 lists
them); every grade goes to the store's writer the moment it is complete.

Item bodies are read in a worker a batch ahead of the reviewer, so moving on never waits on
SQLite; a write is queued on the writer thread (`Store.submit`) and never waited for.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Static

from llmbench.tui.format import model_label

if TYPE_CHECKING:
    from llmbench.services.grading.queues import Entry, Queue
    from llmbench.services.grading.session import Effect, GradingSession
    from llmbench.store.grading.queue import ItemBody
    from llmbench.tui.app import LLMBenchApp

PREFETCH = 24
"""Item bodies read ahead of the reviewer, in one query."""

Part = Content | tuple[str, str] | str


def _level_bindings() -> list[Binding]:
    return [
        Binding(str(digit), f"level('{digit}')", "Score", show=digit == 1, key_display="0-9",
                id=f"grade_level_{digit}")
        for digit in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)
    ]  # fmt: skip


class GradeSessionScreen(Screen[None]):
    BINDINGS = [
        *_level_bindings(),
        Binding("tab", "dimension(1)", "Next dim", priority=True, id="grade_next_dimension"),
        Binding("shift+tab", "dimension(-1)", "Prev dim", show=False, priority=True,
                id="grade_previous_dimension"),
        Binding("y", "verdict('pass')", "Pass", id="grade_pass"),
        Binding("n", "verdict('fail')", "Fail", id="grade_fail"),
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
        #grade-item { width: 2fr; padding: 0 1; }
        #grade-right { width: 1fr; min-width: 36; border-left: tall $primary 30%; padding: 0 1; }
    }
    """

    def __init__(self, session: GradingSession) -> None:
        super().__init__()
        self.session = session
        self.bodies: dict[str, ItemBody] = {}
        self._requested: set[str] = set()
        queue = session.queue
        self.title = f"Grade · {queue.rubric.name}"
        self.sub_title = f"{queue.mode} mode · {queue.reviewer}"
        self.write_errors: list[str] = []
        self.pending_writes: list[Future[Any]] = []

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
            with VerticalScroll(id="grade-item"):
                yield Static("", id="grade-item-text")
            with VerticalScroll(id="grade-right"):
                yield Static("", id="grade-rubric-text")
        yield Footer()

    def on_mount(self) -> None:
        self._prefetch()
        self.refresh_view()

    # -- actions ---------------------------------------------------------------------------

    def action_level(self, key: str) -> None:
        self._after(self.session.level(key))

    def action_dimension(self, step: int) -> None:
        self.session.dimension_step(step)
        self.refresh_view()

    def action_verdict(self, verdict: str) -> None:
        self._after(self.session.verdict(verdict))

    def action_prefer(self, side: str) -> None:
        self._after(self.session.prefer(side))

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

        if self.session.current is None:
            return
        current = self.session.draft().note

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._after(self.session.note(values["note"].strip()))

        self.app.push_screen(
            FormDialog("Note on this item", [Field("note", "Note", current)], submit="Keep"),
            done,
        )

    def action_anchors(self) -> None:
        self.app.push_screen(AnchorsScreen(self.queue))

    def action_leave(self) -> None:
        self.dismiss(None)

    # -- effects ---------------------------------------------------------------------------

    def _after(self, effects: list[Effect]) -> None:
        from llmbench.services.grading.queues import record_session, submit_grade, submit_ungrade
        from llmbench.services.grading.session import Write

        store = self.bench.store
        for effect in effects:
            if isinstance(effect, Write):
                future = submit_grade(store, effect.grade, effect.handle)
            else:
                future = submit_ungrade(store, effect.handle)
            future.add_done_callback(self._written)
            self.pending_writes.append(future)
        self.pending_writes = [f for f in self.pending_writes if not f.done()]
        current = self.session.current
        record_session(store, self.queue, current.key if current is not None else None)
        self._prefetch()
        self.refresh_view()

    def _written(self, future: Future[Any]) -> None:
        # Runs on the writer thread: hand any failure to the UI thread.
        error = future.exception()
        if error is not None:
            self.write_errors.append(str(error))
            with contextlib.suppress(RuntimeError):  # the app may have closed meanwhile
                self.app.call_from_thread(
                    self.notify, str(error), title="Grade not saved", severity="error"
                )

    # -- reading ahead ---------------------------------------------------------------------

    def _keys_ahead(self) -> list[str]:
        entries = self.session.entries
        start = max(self.session.position - 1, 0)
        keys: list[str] = []
        for entry in entries[start : self.session.position + PREFETCH]:
            keys.extend(_item_keys(entry))
        return keys

    def _prefetch(self) -> None:
        ahead = self._keys_ahead()
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
        self.query_one("#grade-progress", Static).update(self._progress_line())
        entry = self.session.current
        item = self.query_one("#grade-item-text", Static)
        rubric = self.query_one("#grade-rubric-text", Static)
        if entry is None:
            item.update(
                Content.assemble(
                    ("Queue done. ", "bold"),
                    "Every item here is graded or skipped: u takes the last step back, "
                    "k goes to the previous item, escape returns to the queues.",
                )
            )
            rubric.update("")
            return
        item.update(self._render_entry(entry))
        rubric.update(self._render_rubric(entry))
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
            parts.append(f"about {_duration(progress.minutes_left)} to finish")
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
        parts += _io_parts(body, blind=self.queue.mode == "blind")
        draft = self.session.draft()
        if draft.note:
            parts += ["\n", ("NOTE  ", "bold $text-accent"), draft.note, "\n"]
        return Content.assemble(*parts)

    def _render_pair(self, pair: Any) -> Content:
        left, right = self.bodies.get(pair.left.key), self.bodies.get(pair.right.key)
        parts: list[Part] = [
            ("Which reply is better?  ", "bold"),
            ("a left · b right · = tie", "dim"),
            "\n\n",
        ]
        if left is None or right is None:
            parts.append(("Loading…", "dim"))
            return Content.assemble(*parts)
        for name, value in left.inputs.items():
            parts += [(f"{name}: ", "dim"), _text(value), "\n"]
        for label, body in (("A  (left)", left), ("B  (right)", right)):
            parts += ["\n", (label, "bold $text-accent"), "\n", body.output, "\n"]
        return Content.assemble(*parts)

    def _render_rubric(self, entry: Entry) -> Content:
        from llmbench.services.grading.queues import Pair

        if isinstance(entry, Pair):
            return Content.assemble(
                ("PAIRWISE", "bold $text-accent"), "\n",
                "a  the left reply is better\nb  the right reply is better\n=  a tie\n\n",
                ("Sides are drawn at random per pair and recorded with the grade.", "dim"),
            )  # fmt: skip
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
        if draft.written:
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


def _item_keys(entry: Entry) -> list[str]:
    from llmbench.services.grading.queues import Pair

    return [entry.a.key, entry.b.key] if isinstance(entry, Pair) else [entry.key]


def _text(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _io_parts(body: ItemBody, *, blind: bool) -> list[Part]:
    parts: list[Part] = []
    if body.guard_flags:
        # What the guards found on the call that produced this output (details in F6).
        parts += [("⚑ guard  ", "bold $warning"), ", ".join(body.guard_flags), "\n\n"]
    parts += [("INPUT", "bold $text-accent"), "\n"]
    for name, value in body.inputs.items():
        parts += [(f"{name}: ", "dim"), _text(value), "\n"]
    parts += ["\n", ("OUTPUT", "bold $text-accent"), "\n", body.output, "\n"]
    if body.expected:
        parts += ["\n", ("EXPECTED", "bold $text-accent"), "\n", body.expected, "\n"]
    checks = [c for c in body.checks if not (blind and c[0].startswith("judge"))]
    if checks:
        parts += ["\n", ("CHECKS", "bold $text-accent"), "\n"]
        for kind, passed, detail in checks:
            parts += [("✓ " if passed else "✗ ", "$success" if passed else "$error"), kind]
            parts += [(f"  {detail}", "dim") if detail else "", "\n"]
    return parts


def _duration(minutes: float) -> str:
    if minutes < 1:
        return f"{max(round(minutes * 60), 1)} s"
    if minutes < 90:
        return f"{round(minutes)} min"
    return f"{minutes / 60:.1f} h"


class AnchorsScreen(ModalScreen[None]):
    """`?`: every dimension's levels with their keys and anchored examples."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="anchors_close"),
    ]
    DEFAULT_CSS = """
    AnchorsScreen { align: center middle; }
    AnchorsScreen > VerticalScroll {
        width: 90%; height: 80%; border: tall $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, queue: Queue) -> None:
        super().__init__()
        self.rubric_queue = queue

    def compose(self) -> ComposeResult:
        rubric = self.rubric_queue.rubric
        parts: list[Part] = [(f"{rubric.name}", "bold"), "\n"]
        if rubric.description:
            parts += [(rubric.description, "italic"), "\n"]
        for dimension in rubric.dimensions:
            parts += ["\n", (dimension.name.upper(), "bold $text-accent")]
            parts += [(f"  {dimension.description}", "dim"), "\n"]
            for level in dimension.levels:
                parts += [(f" {level.key} ", "bold reverse"), f" {level.label}\n"]
                if level.example:
                    parts += [(f"     e.g. {level.example}", "dim"), "\n"]
        parts += ["\n", ("y pass · n fail · escape closes", "dim")]
        with VerticalScroll():
            yield Static(Content.assemble(*parts), id="anchors-text")

    def action_close(self) -> None:
        self.dismiss(None)
