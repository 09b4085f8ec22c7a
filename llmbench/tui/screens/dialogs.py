"""Small modal dialogs every pane can use: a yes/no confirmation and a one-screen form.

Both answer through `dismiss`: the confirmation with a bool, the form with the typed values
(or None when escape cancels), so callers use `push_screen(dialog, callback)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
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
    with a message shown in the dialog, so nothing is lost to a typo."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form_cancel"),
        Binding("ctrl+s", "submit", "Save", id="form_submit"),
    ]
    DEFAULT_CSS = "FormDialog {" + DIALOG_CSS + "}"

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit: str = "Save",
        validate: Validator | None = None,
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.fields = fields
        self.submit_label = submit
        self.validate = validate

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
        self.dismiss(None)
