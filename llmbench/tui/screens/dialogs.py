"""Small modal dialogs every pane can use: a yes/no confirmation, a one-screen form, and the
question ctrl+q asks while work is unsaved or running; and what an F-key does to any dialog.

Each answers through `dismiss`: the confirmation with a bool, the form with the typed values
(or None when escape cancels), the quit question with what to do with the drafts, so callers
use `push_screen(dialog, callback)`.

A pane's F-key pressed while dialogs are open over the pane (`held_input`, `close_dialog`):
dialogs that hold nothing typed close as escape would close them (a question answers no) and
the pane switches; a dialog holding typed input stays, and the switch is refused with a notice,
as a modal dialog does in lazygit or an IDE, so nothing typed is lost or left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select, Static

DIALOG_CSS = """
    align: center middle;
    .dialog-box {
        width: 72;
        max-width: 95%;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    .dialog-title { text-style: bold; padding-bottom: 1; }
    .dialog-error { color: $text-error; height: auto; }
    .dialog-buttons { height: auto; align-horizontal: right; padding-top: 1; }
    .dialog-buttons Button { margin-left: 1; }
    Label { color: $text-muted; }
"""


class ConfirmDialog(ModalScreen[bool]):
    """Ask before something that changes what others see (moving production, discarding)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]
    DEFAULT_CSS = "ConfirmDialog {" + DIALOG_CSS + "}"

    def __init__(self, title: str, question: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self.dialog_title = title
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.dialog_title, classes="dialog-title", markup=False)
            yield Static(self.question, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    choices: Sequence[str] = ()
    """When given, the field is a choice among these instead of free text."""


Validator = Callable[[dict[str, str]], str | None]


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few labelled fields; enter submits, escape cancels. `validate` may refuse the values
    with a message shown in the dialog, so nothing is lost to a typo.

    With a `draft_key` the typed values are kept as a draft while typing (the app's draft
    keeper) and filled back in when the same dialog opens again, until the caller discards the
    draft once the values are used, or escape cancels. `on_change` sees every change instead,
    for callers that keep the values their own way."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form_cancel"),
        Binding("ctrl+s", "submit", "Save", id="form_submit"),
        # Handled as the app reads each key, before it hands the next one to a widget: keys
        # typed in a burst right after tab (a paste, a fast typist, a terminal delivering a
        # whole line) land in the field focus moved to. Left to the focused Input, tab would
        # move focus only once that Input got to it, after the app had already handed it the
        # keys that followed.
        Binding("tab", "focus_field(1)", "Next field", show=False, priority=True,
                id="form_next_field"),
        Binding("shift+tab", "focus_field(-1)", "Previous field", show=False, priority=True,
                id="form_previous_field"),
    ]  # fmt: skip
    DEFAULT_CSS = "FormDialog {" + DIALOG_CSS + "}"

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit: str = "Save",
        validate: Validator | None = None,
        draft_key: str | None = None,
        on_change: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.fields = fields
        self.submit_label = submit
        self.validate = validate
        self.draft_key = draft_key
        self.on_change = on_change
        self._initial = {field.name: field.value or _first(field.choices) for field in fields}
        self._kept = False  # a draft of this dialog exists (restored or written)
        self._restoring = draft_key is not None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.dialog_title, classes="dialog-title", markup=False)
            for field in self.fields:
                yield Label(field.label)
                if field.choices:
                    yield Select(
                        [(choice, choice) for choice in field.choices],
                        value=field.value or field.choices[0],
                        allow_blank=False,
                        id=f"field-{field.name}",
                    )
                else:
                    yield Input(
                        field.value, placeholder=field.placeholder, id=f"field-{field.name}"
                    )
            yield Static("", classes="dialog-error", id="form-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.submit_label} (enter)", id="submit", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def values(self) -> dict[str, str]:
        values = {}
        for field in self.fields:
            widget = self.query_one(f"#field-{field.name}")
            if isinstance(widget, Select):
                values[field.name] = str(widget.value)
            elif isinstance(widget, Input):
                values[field.name] = widget.value
        return values

    def on_mount(self) -> None:
        if self.draft_key is not None:
            if hasattr(self.app, "hold_work"):
                self.app.hold_work(self)
            keeper, key = _keeper(self), self.draft_key
            if keeper is None:
                self._restoring = False
                return

            def read() -> None:
                draft = keeper.read(key)
                self.app.call_from_thread(self._restore, draft.body if draft else None)

            self.run_worker(read, thread=True, group="draft", name="read draft")

    def _restore(self, body: dict[str, Any] | None) -> None:
        self._restoring = False
        if not body:
            if self.values() != self._initial:
                self._changed()  # typed while the draft was read: that is the draft now
            return
        self._kept = True
        typed = self.values()
        for field in self.fields:
            value = body.get(field.name)
            if not isinstance(value, str) or typed[field.name] != self._initial[field.name]:
                continue  # typed over already: what is on screen is newer
            widget = self.query_one(f"#field-{field.name}")
            if isinstance(widget, Input):
                widget.value = value
                widget.cursor_position = len(value)
            elif isinstance(widget, Select) and value in field.choices:
                widget.value = value
        self.notify("The values typed last time are back.", title=self.dialog_title, timeout=3)
        self._changed()  # the fields typed over while it was read, kept with the rest

    def action_focus_field(self, step: int) -> None:
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        self._changed()

    def _changed(self) -> None:
        if not self.is_mounted:
            return
        values = self.values()
        if self.on_change is not None:
            self.on_change(values)
        keeper = _keeper(self)
        if self.draft_key is None or keeper is None or self._restoring:
            return
        if values != self._initial:
            self._kept = True
            keeper.put(self.draft_key, "dialog", values)
        elif self._kept:
            self._kept = False
            keeper.discard(self.draft_key)

    def holds_input(self) -> str | None:
        """What a pane switch would lose by closing the dialog: values typed (or a draft
        restored), else None."""
        if not self.is_mounted:
            return None
        if self._kept or self.values() != self._initial:
            return f'the fields of "{self.dialog_title}"'
        return None

    # -- HoldsWork: ctrl+q asks while a dialog kept as a draft has typed values ---------------

    def on_unmount(self) -> None:
        if hasattr(self.app, "release_work"):
            self.app.release_work(self)

    def unsaved_work(self) -> list[Unsaved]:
        if self.draft_key is None or not self.is_mounted or self.values() == self._initial:
            return []
        return [Unsaved(f'the fields of "{self.dialog_title}"')]

    def keep_drafts(self) -> None:
        keeper = _keeper(self)
        if keeper is not None and self.draft_key is not None and self._kept:
            keeper.flush(self.draft_key)

    def discard_drafts(self) -> None:
        keeper = _keeper(self)
        if keeper is not None and self.draft_key is not None:
            keeper.discard(self.draft_key)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        values = self.values()
        problem = self.validate(values) if self.validate else None
        if problem:
            self.query_one("#form-error", Static).update(problem)
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        keeper = _keeper(self)
        if self.draft_key is not None and keeper is not None and self._kept:
            keeper.discard(self.draft_key)  # escape is a choice to throw the values away
        self.dismiss(None)


def _first(choices: Sequence[str]) -> str:
    return choices[0] if choices else ""


def _keeper(screen: ModalScreen[Any]) -> Any:
    """The app's DraftKeeper, or None in an app without one."""
    return getattr(screen.app, "drafts", None)


@dataclass(frozen=True)
class Unsaved:
    """One piece of work ctrl+q asks about: typed and kept only as a draft, or `running`."""

    what: str
    running: bool = False
    kind: str = "comparison"  # what running work is, for the dialog's question


QuitAnswer = Literal["keep", "discard", "cancel"]


class QuitDialog(ModalScreen[QuitAnswer]):
    """ctrl+q while work is unsaved or running. Drafts are already kept in the database, so
    quitting loses nothing: y quits and keeps them for next time, d throws them away and
    quits, n or escape stays. A running comparison stops (its finished cells are kept)."""

    BINDINGS = [
        Binding("y,q", "answer('keep')", "Quit", id="quit_keep"),
        Binding("d", "answer('discard')", "Discard and quit", id="quit_discard"),
        Binding("n,escape", "answer('cancel')", "Stay", id="quit_cancel"),
    ]
    DEFAULT_CSS = "QuitDialog {" + DIALOG_CSS + "}"

    def __init__(self, work: Sequence[Unsaved]) -> None:
        super().__init__()
        self.work = list(work)

    @property
    def has_drafts(self) -> bool:
        return any(not item.running for item in self.work)

    def compose(self) -> ComposeResult:
        running = [item.what for item in self.work if item.running]
        drafts = [item.what for item in self.work if not item.running]
        if running and not drafts:
            kinds = {item.kind for item in self.work if item.running}
            title = (
                f"A{'n' if kinds == {'import'} else ''} {kinds.pop()} is running: stop it and quit?"
                if len(running) == 1
                else "Work is running: stop it and quit?"
            )
        else:
            title = "Quit with unsaved work?"
        lines: list[str] = []
        if drafts:
            lines.append("Kept as drafts, and back when you reopen llmbench:")
            lines += [f"  • {what}" for what in drafts]
        if running:
            if lines:
                lines.append("")
            lines.append("Running; quitting stops it (finished cells are kept, r resumes):")
            lines += [f"  • {what}" for what in running]
        with Vertical(classes="dialog-box"):
            yield Static(title, classes="dialog-title", markup=False)
            yield Static("\n".join(lines), id="quit-work", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Stop and quit (y)" if running and not drafts else "Quit, keep drafts (y)",
                    id="keep",
                    variant="primary",
                )
                if drafts:
                    yield Button("Discard drafts and quit (d)", id="discard", variant="error")
                yield Button("Stay (n)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(str(event.button.id))

    def action_answer(self, answer: str) -> None:
        if answer == "discard" and not self.has_drafts:
            return
        self.dismiss(answer if answer in ("keep", "discard") else "cancel")  # type: ignore[arg-type]


# What a dialog may hold that a user typed or picked: closing such a dialog would lose it.
FIELD_SELECTOR = "Input, TextArea, Select, SelectionList, Checkbox, RadioSet, Switch"


def held_input(screen: Screen[Any]) -> str | None:
    """What closing `screen` (a dialog) would lose, in words, or None when it holds nothing.

    A dialog that knows says so (`holds_input()`); one at work (`working`) holds its work; the
    command palette holds only a search; any other dialog with a field holds what is in it."""
    from textual.command import CommandPalette

    own = getattr(screen, "holds_input", None)
    if callable(own):
        held: str | None = own()
        return held
    if getattr(screen, "working", False):
        return f"the work of {_dialog_name(screen)}"
    if isinstance(screen, CommandPalette):
        return None
    if screen.query(FIELD_SELECTOR):
        return f"the fields of {_dialog_name(screen)}"
    return None


def _dialog_name(screen: Screen[Any]) -> str:
    title = getattr(screen, "dialog_title", None)
    return f'"{title}"' if isinstance(title, str) and title else "the dialog"


async def close_dialog(screen: Screen[Any]) -> None:
    """Close a dialog as escape would (a question answers no, a form cancels), so whoever
    waits for its answer gets one; a dialog without an escape key is dismissed with None."""
    escape = screen._bindings.key_to_bindings.get("escape", [])
    if escape:
        await screen.app.run_action(escape[0].action, screen)
    if screen in screen.app.screen_stack and screen.is_current:
        screen.dismiss(None)


async def leave_dialogs(app: App[Any], then: str) -> bool:
    """Before a pane switch: close the dialogs open over the pane when none holds typed input
    (each as escape closes it) and say True; while one does, leave them all open, say why and
    how (`then`: what the switch does next), and say False. A dialog is never left behind on
    a pane's stack, to be found again on a later visit or only by ctrl+q's question."""
    dialogs: list[Screen[Any]] = []
    for screen in reversed(app.screen_stack):
        if not isinstance(screen, ModalScreen):
            break
        dialogs.append(screen)
    for screen in dialogs:
        held = held_input(screen)
        if held is not None:
            app.bell()
            app.notify(
                f"The dialog holds {held}: finish it (enter) or cancel it (escape); {then}.",
                title="Close the dialog first",
                severity="warning",
            )
            return False
    for screen in dialogs:
        await close_dialog(screen)
    return not isinstance(app.screen, ModalScreen)
