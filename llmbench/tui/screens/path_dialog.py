"""A dialog that asks for a file or folder path and does its work on it in a thread worker,
staying open with every problem (`file:line: message`) when the work is refused, so a typo in a
path or a bad line in a file is fixed and tried again without retyping.

Used where the TUI reads or writes files the CLI takes as arguments: F2's prompt files import
and export, F3's eval suites. It answers through `dismiss` with what the work returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from llmbench.tui.screens.dialogs import DIALOG_CSS

PathWork = Callable[[Path, str], Any]
"""Runs in a thread worker with the typed path (~ expanded) and the picked choice ("" when the
dialog has none); its return value is the dialog's answer, what it raises is shown."""


def problem_lines(error: BaseException, path: Path | None = None) -> list[str]:
    """What to show of a refusal: each `file:line` problem of a file error (PromptFileError and
    SuiteError carry them), else the one message."""
    problems = getattr(error, "problems", None)
    if isinstance(problems, list) and problems:
        return [str(problem) for problem in problems]
    if isinstance(error, OSError) and error.strerror:
        return [f"{error.filename or path}: {error.strerror}"]
    return [str(error) or type(error).__name__]


class PathDialog(ModalScreen[Any]):
    """A path (and optionally one choice); enter does the work, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="path_cancel"),
        Binding("ctrl+s", "submit", "Go", show=False, id="path_submit"),
    ]
    DEFAULT_CSS = (
        "PathDialog {"
        + DIALOG_CSS
        + """
        #path-note { color: $text-muted; padding-bottom: 1; }
        #path-problems { height: auto; max-height: 7; display: none; }
        &.-refused #path-problems { display: block; }
        #path-status { height: auto; color: $text-muted; }
        &.-refused #path-status { color: $text-error; }
    }"""
    )

    def __init__(
        self,
        title: str,
        note: str,
        work: PathWork,
        *,
        label: str,
        value: str = "",
        placeholder: str = "",
        choice_label: str = "",
        choices: Sequence[str] = (),
        submit: str = "Go",
        refusal: str = "Not done",
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.note = note
        self.work = work
        self.label = label
        self.value = value
        self.placeholder = placeholder
        self.choice_label = choice_label
        self.choices = tuple(choices)
        self.submit_label = submit
        self.refusal = refusal
        self.working = False
        self.problems: list[str] = []
        """What the last try was refused for, as shown."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.dialog_title, classes="dialog-title", markup=False)
            yield Static(self.note, id="path-note", markup=False)
            yield Label(self.label)
            yield Input(self.value, placeholder=self.placeholder, id="path-input")
            if self.choices:
                yield Label(self.choice_label)
                yield Select(
                    [(choice, choice) for choice in self.choices],
                    value=self.choices[0],
                    allow_blank=False,
                    id="path-choice",
                )
            yield Static("", id="path-status", markup=False)
            with VerticalScroll(id="path-problems"):
                yield Static("", id="path-problem-lines", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.submit_label} (enter)", id="submit", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        field = self.query_one("#path-input", Input)
        field.cursor_position = len(field.value)
        field.focus()

    @property
    def choice(self) -> str:
        if not self.choices:
            return ""
        return str(self.query_one("#path-choice", Select).value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        if self.working:
            return
        text = self.query_one("#path-input", Input).value.strip()
        if not text:
            self._refused(["Type a path."], counted=False)
            return
        path = Path(text).expanduser()
        work, choice = self.work, self.choice
        self.working = True
        self.query_one("#submit", Button).disabled = True
        self.set_class(False, "-refused")
        self.query_one("#path-status", Static).update("Working…")

        def run() -> None:
            try:
                result = work(path, choice)
            except Exception as error:  # a refusal is shown in the dialog, never fatal
                self.app.call_from_thread(self._refused, problem_lines(error, path))
                return
            self.app.call_from_thread(self._done, result)

        self.run_worker(run, thread=True, group="path-work", name=self.dialog_title)

    def _done(self, result: Any) -> None:
        self.working = False
        self.dismiss(result)

    def _refused(self, lines: list[str], *, counted: bool = True) -> None:
        self.working = False
        self.problems = lines
        self.query_one("#submit", Button).disabled = False
        many = len(lines)
        head = f"{self.refusal} ({many} problem{'s' if many != 1 else ''}):" if counted else ""
        self.query_one("#path-status", Static).update(head or lines[0])
        self.query_one("#path-problem-lines", Static).update("\n".join(lines) if counted else "")
        self.set_class(True, "-refused")
        self.query_one("#path-problems", VerticalScroll).scroll_home(animate=False)

    def action_cancel(self) -> None:
        if self.working:
            # The work may already be writing: its outcome must be seen, so stay until it ends.
            self.notify("Still working: this closes when it is done.", timeout=3)
            return
        self.dismiss(None)
