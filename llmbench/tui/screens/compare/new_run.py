"""Pick what to compare: prompt versions × models × a dataset (or one typed input), and how
many times to repeat each cell to see the variance. Answers with the picks, or None."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from llmbench.tui.format import model_label
from llmbench.tui.screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from llmbench.services.compare.runs import Choices, Picks

ADHOC = -1  # the dataset choice that means "the input typed below"
PRESELECTED_VERSIONS = 2


class NewRunDialog(ModalScreen["Picks | None"]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_run_cancel"),
        Binding("ctrl+s", "submit", "Start", id="new_run_start"),
    ]
    DEFAULT_CSS = (
        "NewRunDialog {"
        + DIALOG_CSS
        + """
        .dialog-box { width: 110; }
        #new-run-lists { height: 12; }
        #new-run-lists Vertical { width: 1fr; }
        #new-run-lists SelectionList { height: 1fr; }
        #new-run-numbers { height: auto; }
        #new-run-numbers Vertical { width: 1fr; height: auto; }
    }"""
    )

    def __init__(self, choices: Choices) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        versions = self.choices.versions
        with Vertical(classes="dialog-box"):
            yield Static("New comparison", classes="dialog-title")
            with Horizontal(id="new-run-lists"):
                with Vertical():
                    yield Label("Prompt versions (space to pick)")
                    yield SelectionList[int](
                        *(
                            (choice.label, choice.id, index < PRESELECTED_VERSIONS)
                            for index, choice in enumerate(versions)
                        ),
                        id="new-run-versions",
                    )
                with Vertical():
                    yield Label("Models (space to pick)")
                    defaults = set(self.choices.models[:2])
                    yield SelectionList[str](
                        *(
                            (model_label(model), model, model in defaults)
                            for model in self.choices.models
                        ),
                        id="new-run-models",
                    )
            yield Label("Cases")
            options = [
                (f"{dataset.name} ({dataset.cases} cases)", dataset.id)
                for dataset in self.choices.datasets
            ]
            options.append(("one input, typed below", ADHOC))
            # The dataset that fills in the first picked version's variables, when one does.
            fitting = self.choices.dataset_for(versions[0].id) if versions else None
            yield Select(
                options,
                value=fitting.id if fitting else options[0][1],
                allow_blank=False,
                id="new-run-dataset",
            )
            yield Input(
                placeholder="the input: name=value; name=value (or plain text for `input`)",
                id="new-run-adhoc",
            )
            with Horizontal(id="new-run-numbers"):
                with Vertical():
                    yield Label("Repeat each cell")
                    yield Input("1", id="new-run-repeats", type="integer")
                with Vertical():
                    yield Label("Name (optional)")
                    yield Input(placeholder="e.g. tone rewrite vs production", id="new-run-name")
            yield Static("", classes="dialog-error", id="new-run-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-run-versions").focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "new-run-dataset" and event.value == ADHOC:
            self.query_one("#new-run-adhoc").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_submit()
        else:
            self.action_cancel()

    def picks(self) -> Picks:
        from llmbench.services.compare.runs import Picks, parse_adhoc

        versions = self.query_one("#new-run-versions", SelectionList).selected
        models = self.query_one("#new-run-models", SelectionList).selected
        if not versions:
            raise ValueError("pick at least one prompt version")
        if not models:
            raise ValueError("pick at least one model")
        repeats_text = self.query_one("#new-run-repeats", Input).value.strip() or "1"
        repeats = int(repeats_text)
        dataset = self.query_one("#new-run-dataset", Select).value
        adhoc = None
        if dataset == ADHOC:
            adhoc = parse_adhoc(self.query_one("#new-run-adhoc", Input).value)
            if not adhoc:
                raise ValueError("type the input to compare on, or pick a dataset")
        return Picks(
            version_ids=tuple(int(version) for version in versions),
            models=tuple(str(model) for model in models),
            dataset_id=None if dataset == ADHOC else int(str(dataset)),
            adhoc=adhoc,
            repeats=repeats,
            name=self.query_one("#new-run-name", Input).value.strip(),
        )

    def action_submit(self) -> None:
        try:
            picks = self.picks()
        except ValueError as error:
            self.query_one("#new-run-error", Static).update(str(error))
            return
        self.dismiss(picks)

    def action_cancel(self) -> None:
        self.dismiss(None)
