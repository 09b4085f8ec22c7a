"""Pick what to compare: prompt versions × models × a dataset (or one typed input), and how
many times to repeat each cell to see the variance. Answers with the picks, or None.

Each model reads as in the models view (F8): context window, prices per million tokens, the
latency p50 and pass rate measured here, read in a worker once the dialog is open. Whenever
the picks change, a worker renders the picked versions with the cases and warns of any prompt
longer than a picked model's context window."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from llmbench.tui.screens.base import DataRead
from llmbench.tui.screens.dialogs import DIALOG_CSS
from llmbench.tui.screens.model_columns import picker_header, picker_layout, picker_line

if TYPE_CHECKING:
    from llmbench.services.compare.runs import Choices, Picks
    from llmbench.services.models.catalog import ModelsOverview
    from llmbench.services.models.fit import FitProblem
    from llmbench.tui.app import LLMBenchApp

ADHOC = -1  # the dataset choice that means "the input typed below"
PRESELECTED_VERSIONS = 2
FIT_DELAY_S = 0.3
CHECKBOX_WIDTH = 5
"""Cells a SelectionList line spends before its text: the check box, a space, and a cell to
spare so a line never reaches the scroll bar."""
"""How long the fit check waits after the last change of the picks (typing an input)."""


class NewRunDialog(ModalScreen["Picks | None"]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_run_cancel"),
        Binding("ctrl+s", "submit", "Start", id="new_run_start"),
    ]
    DEFAULT_CSS = (
        "NewRunDialog {"
        + DIALOG_CSS
        + """
        .dialog-box { width: 120; }
        #new-run-lists { height: 12; }
        #new-run-lists Vertical { width: 1fr; }
        #new-run-lists #new-run-models-box { width: 2fr; }
        #new-run-lists SelectionList { height: 1fr; }
        #new-run-models-head { padding-left: 6; color: $text-muted; }
        #new-run-fit { color: $text-warning; height: auto; max-height: 4; }
        #new-run-numbers { height: auto; }
        #new-run-numbers Vertical { width: 1fr; height: auto; }
    }"""
    )

    def __init__(self, choices: Choices) -> None:
        super().__init__()
        self.choices = choices
        self.overview: ModelsOverview | None = None
        self.fit_problems: list[FitProblem] | None = None
        """The latest fit check's findings (None until one finished)."""
        self._fit_checks = 0
        self._fit_timer: Timer | None = None
        self._gateway_loading = False

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
                with Vertical(id="new-run-models-box"):
                    yield Label("Models (space to pick)")
                    yield Static("", id="new-run-models-head", markup=False)
                    defaults = set(self.choices.models[:2])
                    yield SelectionList[str](
                        *(
                            Selection(
                                picker_line(model, None, picker_layout(None)),
                                model,
                                model in defaults,
                            )
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
            yield Static("", id="new-run-fit", markup=False)
            yield Static("", classes="dialog-error", id="new-run-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start (ctrl+s)", id="start", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-run-versions").focus()
        self._read_models()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "new-run-dataset" and event.value == ADHOC:
            self.query_one("#new-run-adhoc").focus()
        self._check_fit_soon()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._check_fit_soon()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "new-run-adhoc":
            self._check_fit_soon()

    # -- the models' facts and whether the prompts fit them --------------------------------------
    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def _read_models(self) -> None:
        store, settings = self.bench.store, self.bench.settings
        day, models = self.bench.now().date().isoformat(), list(self.choices.models)

        def read() -> None:
            from llmbench.services.models.catalog import models_overview

            # Posted, not called: a message to a dialog closed meanwhile is simply dropped.
            try:
                overview = models_overview(store, settings, day=day, also=models)
            except Exception as error:  # the picker works without the facts: say why
                self.post_message(DataRead(self._models_not_read, error))
                return
            self.post_message(DataRead(self._show_models, overview))

        self.run_worker(read, thread=True, group="models", name="read models")

    def on_data_read(self, message: DataRead) -> None:
        message.stop()
        message.apply(message.payload)

    def _models_not_read(self, error: Exception) -> None:
        self.query_one("#new-run-models-head", Static).update(
            f"(model facts not read: {type(error).__name__}: {error})"
        )
        self._load_gateway()

    def _load_gateway(self) -> None:
        """Start importing litellm (seconds) while the comparison is picked, once the dialog
        has shown what it reads: started with `n`, the import took the interpreter from the
        dialog's first frame, its models' read and its fit check."""
        if self._gateway_loading:
            return
        self._gateway_loading = True
        from llmbench.services.evaluation.engine import prefetch_gateway

        self.call_after_refresh(prefetch_gateway)

    def _show_models(self, overview: ModelsOverview) -> None:
        self.overview = overview
        models = self.query_one("#new-run-models", SelectionList)
        # The columns that fit the list as laid out (each line has its check box before it).
        width = models.scrollable_content_region.width
        layout = picker_layout(width - CHECKBOX_WIDTH if width else None)
        self.query_one("#new-run-models-head", Static).update(picker_header(layout))
        picked, highlighted = set(models.selected), models.highlighted
        models.clear_options()
        models.add_options(
            [
                Selection(picker_line(model, overview.entry(model), layout), model, model in picked)
                for model in self.choices.models
            ]
        )
        models.highlighted = highlighted
        self._check_fit_soon()

    def _check_fit_soon(self) -> None:
        if self._fit_timer is not None:
            self._fit_timer.stop()
        self._fit_timer = self.set_timer(FIT_DELAY_S, self._check_fit)

    def _check_fit(self) -> None:
        if self.overview is None:
            return  # checked once the context windows are known
        from llmbench.services.compare.runs import parse_adhoc

        versions = [int(v) for v in self.query_one("#new-run-versions", SelectionList).selected]
        models = [str(m) for m in self.query_one("#new-run-models", SelectionList).selected]
        dataset = self.query_one("#new-run-dataset", Select).value
        try:
            adhoc = (
                parse_adhoc(self.query_one("#new-run-adhoc", Input).value)
                if dataset == ADHOC
                else None
            )
        except ValueError:
            adhoc = {}  # not an input yet: nothing to count
        windows = {
            model: entry.facts.context_window
            for model in models
            if (entry := self.overview.entry(model)) is not None
        }
        store = self.bench.store
        self._fit_checks += 1
        number = self._fit_checks

        def check() -> None:
            from llmbench.services.models.fit import prompt_fit

            try:
                problems = prompt_fit(
                    store,
                    version_ids=versions,
                    models=models,
                    context_windows=windows,
                    dataset_id=None if dataset == ADHOC else int(str(dataset)),
                    adhoc=adhoc,
                )
            except Exception as error:  # a warning that cannot be computed must not block
                text = f"(prompt sizes not checked: {type(error).__name__}: {error})"
                self.post_message(DataRead(self._fit_not_checked, (text, number)))
                return
            self.post_message(DataRead(self._show_fit, (problems, number)))

        self.run_worker(check, thread=True, exclusive=True, group="fit", name="check fit")

    def _show_fit(self, found: tuple[list[FitProblem], int]) -> None:
        problems, number = found
        if number != self._fit_checks:
            return  # the picks changed since: a newer check is coming
        self.fit_problems = problems
        text = "\n".join(f"⚠ {problem.sentence()}" for problem in problems)
        self.query_one("#new-run-fit", Static).update(text)
        self._load_gateway()

    def _fit_not_checked(self, found: tuple[str, int]) -> None:
        text, number = found
        if number == self._fit_checks:
            self.query_one("#new-run-fit", Static).update(text)
            self._load_gateway()

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
