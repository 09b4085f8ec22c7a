"""F6's `i`: another tool's calls into the audit log, as `llmbench import` brings them, or a
promptfoo config converted into an eval suite file.

The import runs in a worker; its progress bar is fed by the importer's own progress reports.
Imports are all or nothing: a refused file shows each problem with its file and line and adds
nothing, and escape during an import asks, then cancels it by raising from the progress report
inside the write transaction, so the writer rolls the whole import back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker

from llmbench.services.imports.runs import ImportCancelled, ImportEnded, run_import
from llmbench.services.imports.sources import IMPORT_KINDS, KINDS_BY_KEY, field_map, source_problem
from llmbench.tui.screens.dialogs import DIALOG_CSS, ConfirmDialog, Unsaved

if TYPE_CHECKING:
    from llmbench.services.drafts import DraftKeeper
    from llmbench.tui.app import LLMBenchApp

DRAFT_KEY = "dialog:import"
"""The fields typed and not imported yet, kept as a draft (services.drafts) until the import
succeeds or escape throws them away."""


class ImportDialog(ModalScreen[None]):
    """Pick what to import and the file; enter starts, escape closes (asking first while an
    import runs). The dialog stays open with the outcome, so another file can follow."""

    BINDINGS = [
        Binding("escape", "close", "Close (asks while importing)", id="import_close"),
        Binding("ctrl+s", "start", "Import", id="import_start"),
        Binding("tab", "focus_field(1)", "Next field", show=False, priority=True,
                id="import_next_field"),
        Binding("shift+tab", "focus_field(-1)", "Previous field", show=False, priority=True,
                id="import_previous_field"),
    ]  # fmt: skip
    DEFAULT_CSS = (
        "ImportDialog {"
        + DIALOG_CSS
        + """
        /* One row per field (compact widgets), so an outcome with its problems still fits
           an 80×24 terminal. */
        .dialog-box { width: 96; }
        .dialog-title { padding-bottom: 0; }
        .import-row { height: 1; margin-top: 1; }
        .import-row Label { width: 6; }
        .import-row Select, .import-row Input { width: 1fr; }
        #import-map-hint { padding-left: 6; }
        #import-map-row, #import-map-hint { display: none; }
        &.-jsonl #import-map-row, &.-jsonl #import-map-hint { display: block; }
        #import-progress { display: none; margin-top: 1; }
        &.-progress #import-progress { display: block; }
        #import-status { height: auto; margin-top: 1; display: none; }
        &.-told #import-status { display: block; }
        #import-details { height: auto; max-height: 8; display: none; }
        &.-details #import-details { display: block; }
        #import-details-text { height: auto; color: $text-muted; }
        &.-problem #import-details-text, &.-problem #import-status { color: $text-error; }
        #import-error { display: none; }
        &.-refused #import-error { display: block; }
        .dialog-buttons { padding-top: 0; margin-top: 1; }
    }
    """
    )

    class Progressed(Message):
        """The importer's (done, total) report; total 0 when it cannot know."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    def __init__(self, on_imported: Callable[[], None]) -> None:
        super().__init__()
        self.on_imported = on_imported
        self.running: Worker[None] | None = None
        self.cancel = threading.Event()
        self.ended: ImportEnded | None = None
        """How the last import ended, once one has."""
        self._source = ""
        self._initial = {"kind": IMPORT_KINDS[0].key, "path": "", "map": ""}
        self._kept = False  # a draft of the fields exists (restored or written)
        self._restoring = True

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Import", classes="dialog-title")
            with Horizontal(classes="import-row"):
                yield Label("What")
                yield Select(
                    [(kind.label, kind.key) for kind in IMPORT_KINDS],
                    value=IMPORT_KINDS[0].key,
                    allow_blank=False,
                    compact=True,
                    id="import-kind",
                )
            with Horizontal(classes="import-row"):
                yield Label("File")
                yield Input(placeholder="path of the file to import", compact=True,
                            id="import-path")  # fmt: skip
            with Horizontal(classes="import-row", id="import-map-row"):
                yield Label("Map")
                yield Input(placeholder="optional: FIELD=PATH …", compact=True, id="import-map")
            yield Label("e.g. ts=startTime model=request.model (as `--map`)", id="import-map-hint")
            yield ProgressBar(id="import-progress", show_eta=False)
            yield Static("", id="import-status", markup=False)
            with VerticalScroll(id="import-details"):
                yield Static("", id="import-details-text", markup=False)
            yield Static("", classes="dialog-error", id="import-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Import (enter)", id="import-start", variant="primary", compact=True)
                yield Button("Close (esc)", id="import-close", compact=True)

    def on_mount(self) -> None:
        self.set_class(True, "-jsonl")
        self.query_one("#import-path", Input).focus()
        if hasattr(self.app, "hold_work"):
            self.app.hold_work(self)
        keeper = self._keeper
        if keeper is None:
            self._restoring = False
            return

        def read() -> None:
            draft = keeper.read(DRAFT_KEY)
            self.app.call_from_thread(self._restore, draft.body if draft else None)

        self.run_worker(read, thread=True, group="draft", name="read draft")

    # -- the fields, kept as a draft while typed ----------------------------------------------

    @property
    def _keeper(self) -> DraftKeeper | None:
        return getattr(self.app, "drafts", None)

    def values(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "path": self.query_one("#import-path", Input).value,
            "map": self.query_one("#import-map", Input).value,
        }

    def _restore(self, body: dict[str, object] | None) -> None:
        self._restoring = False
        if not body or self.values() != self._initial:
            # Nothing kept, or typed over while it was read (a key before the dialog settled):
            # what is on screen is newer, and becomes the draft now.
            self._changed()
            return
        self._kept = True
        kind = body.get("kind")
        if isinstance(kind, str) and kind in KINDS_BY_KEY:
            self.query_one("#import-kind", Select).value = kind
        for name in ("path", "map"):
            value = body.get(name)
            if isinstance(value, str):
                field = self.query_one(f"#import-{name}", Input)
                field.value = value
                field.cursor_position = len(value)
        self.notify("The fields typed last time are back.", title="Import", timeout=3)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed()

    def _changed(self) -> None:
        keeper = self._keeper
        if not self.is_mounted or keeper is None or self._restoring:
            return
        values = self.values()
        if values != self._initial:
            self._kept = True
            keeper.put(DRAFT_KEY, "dialog", values)
        elif self._kept:
            self._forget_draft()

    def _forget_draft(self) -> None:
        keeper = self._keeper
        if keeper is not None and self._kept:
            self._kept = False
            keeper.discard(DRAFT_KEY)

    def on_unmount(self) -> None:
        if hasattr(self.app, "release_work"):
            self.app.release_work(self)

    @property
    def kind(self) -> str:
        return str(self.query_one("#import-kind", Select).value)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.set_class(event.value == "jsonl", "-jsonl")
        self._changed()

    def action_focus_field(self, step: int) -> None:
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-start":
            self.action_start()
        else:
            self.action_close()

    # -- starting ----------------------------------------------------------------------------

    def action_start(self) -> None:
        if self.running is not None:
            return
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._refuse("Name the file to import.")
            return
        path, kind = Path(text).expanduser(), self.kind
        mapping: dict[str, str] | None = None
        try:
            problem = source_problem(kind, path)
            if kind == "jsonl":
                mapping = field_map(self.query_one("#import-map", Input).value)
        except ValueError as bad_map:
            problem = str(bad_map)
        if problem:
            self._refuse(problem)
            return
        self._refuse(None)
        self._begin(kind, path, mapping)

    def _refuse(self, problem: str | None) -> None:
        """Say why the fields cannot be imported (None: they can)."""
        self.query_one("#import-error", Static).update(problem or "")
        self.set_class(problem is not None, "-refused")

    def _begin(self, kind: str, path: Path, mapping: dict[str, str] | None) -> None:
        self.cancel = threading.Event()
        self.ended = None
        self._source = path.name
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self.set_class(True, "-progress")
        self.set_class(False, "-details")
        self.set_class(False, "-problem")
        for widget_id in ("#import-kind", "#import-path", "#import-map", "#import-start"):
            self.query_one(widget_id).disabled = True
        action = "Importing" if KINDS_BY_KEY[kind].calls else "Converting"
        self._status(f"{action} {path.name}… (escape cancels)")
        store, cancel = cast("LLMBenchApp", self.app).store, self.cancel

        def progress(done: int, total: int) -> None:
            # Called by the importer in the writer's transaction (or this worker): raising
            # here rolls the whole import back.
            if cancel.is_set():
                raise ImportCancelled
            self.post_message(self.Progressed(done, total))

        def work() -> None:
            ended = run_import(store, kind, path, mapping, progress)
            self.app.call_from_thread(self._finished, ended)

        self.running = self.run_worker(work, thread=True, group="import", name="Import")

    def on_import_dialog_progressed(self, message: ImportDialog.Progressed) -> None:
        if self.running is None:
            return
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=message.total or None, progress=message.done)
        if message.total and not self.cancel.is_set():
            share = min(message.done / message.total, 1.0)
            self._status(f"Importing {self._source}… {share:.0%} read (escape cancels)")

    def _finished(self, ended: ImportEnded) -> None:
        self.running = None
        if self.cancel.is_set() and not ended.cancelled:
            ended = replace(
                ended, headline="It ended before it could be cancelled. " + ended.headline
            )
        self.ended = ended
        # A finished import leaves its bar full beside the outcome; any other end hides it.
        done = not ended.problem and not self.cancel.is_set()
        if done:
            bar = self.query_one("#import-progress", ProgressBar)
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.set_class(done, "-progress")
        self.set_class(ended.problem, "-problem")
        self.set_class(bool(ended.details), "-details")
        self._status(ended.headline)
        self.query_one("#import-details-text", Static).update("\n".join(ended.details))
        for widget_id in ("#import-kind", "#import-path", "#import-map", "#import-start"):
            self.query_one(widget_id).disabled = False
        self.query_one("#import-path", Input).focus()
        if not ended.problem and not ended.cancelled:
            self._forget_draft()  # done: nothing typed is left to keep
        if ended.added:
            self.on_imported()

    def _status(self, text: str) -> None:
        self.query_one("#import-status", Static).update(text)
        self.set_class(bool(text), "-told")

    # -- leaving -----------------------------------------------------------------------------

    def action_close(self) -> None:
        if self.running is None:
            self._forget_draft()  # escape is a choice to throw the fields away
            self.dismiss(None)
            return
        if self.cancel.is_set():
            return  # already cancelling: the import ends at its next progress report

        def answer(cancel: bool | None) -> None:
            if cancel and self.running is not None:
                self.cancel.set()
                self._status(f"Cancelling the import of {self._source}…")

        self.app.push_screen(
            ConfirmDialog(
                "Cancel the import?",
                f"{self._source} is imported all or nothing: cancelling adds none of its calls.",
                yes="Cancel the import",
            ),
            answer,
        )

    # -- HoldsWork: ctrl+q asks while an import runs ----------------------------------------

    def unsaved_work(self) -> list[Unsaved]:
        work = []
        if self.running is not None:
            what = f"the import of {self._source} (quitting adds none of it)"
            work.append(Unsaved(what, running=True, kind="import"))
        if self.is_mounted and self._kept and self.values() != self._initial:
            work.append(Unsaved('the fields of "Import"'))
        return work

    def keep_drafts(self) -> None:
        self.cancel.set()  # quitting stops the import: it rolls back, nothing is added
        keeper = self._keeper
        if keeper is not None and self._kept:
            keeper.flush(DRAFT_KEY)

    def discard_drafts(self) -> None:
        self.cancel.set()
        self._forget_draft()
