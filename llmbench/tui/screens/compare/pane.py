"""F3 Compare: runs with their size and pass rate, and the highlighted run's scoreboard per
prompt version × model. `n` starts a comparison, `E` runs an eval suite file, enter opens a run
live (columns or grid), `m` shows its migration report."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING, count, day, millis, model_label, money, one_line, percent
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.folding_table import FoldColumn, FoldingTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.core.evaluation.scoreboard import GroupStats
    from llmbench.services.compare.runs import Choices, Picks
    from llmbench.store.views import RunRow


def pass_rate_text(passed: int, checked: int, rate: float | None) -> str:
    return NOTHING if rate is None else f"{percent(rate)} ({passed}/{checked})"


# At 80 columns the runs keep their name, status, size and pass rate; the scoreboard its
# version, model, pass rate, cost per case and p50. Wider terminals show the rest.
RUN_COLUMNS = (
    FoldColumn("name", "Run", cut=True),
    FoldColumn("kind", "Kind", fold=1),
    FoldColumn("status", "Status"),
    FoldColumn("cells", "Cells"),
    FoldColumn("pass_rate", "Pass rate"),
    FoldColumn("created", "Created", fold=2),
    FoldColumn("models", "Models", fold=3),
)
SCOREBOARD_COLUMNS = (
    FoldColumn("version", "Prompt version"),
    FoldColumn("model", "Model"),
    FoldColumn("cells", "Cells", fold=5),
    FoldColumn("pass_rate", "Pass rate"),
    FoldColumn("judge", "Judge", fold=2),
    FoldColumn("cost", "Cost/case"),
    FoldColumn("p50", "p50", fold=1),
    FoldColumn("p95", "p95", fold=4),
    FoldColumn("errors", "Errors", fold=3),
)


class CompareScreen(PaneScreen["list[RunRow]"]):
    PANE_TITLE = "Compare"
    EMPTY_TEXT = (
        "No runs yet.\n\n"
        "Press n to compare prompt versions across models, run `llmbench demo` for example "
        "runs, or `llmbench eval` from CI."
    )
    BINDINGS = [
        Binding("n", "new_run", "New comparison", id="compare_new"),
        Binding("enter", "open_run", "Open run", id="compare_open", show=False),
        Binding("m", "report", "Migration report", id="compare_report"),
        Binding("D", "datasets", "Datasets", id="compare_datasets"),
        Binding("E", "eval_suite", "Run suite", id="compare_eval_suite"),
    ]
    PALETTE: ClassVar[dict[str, str]] = {
        "compare_eval_suite": "Run an eval suite file (as llmbench eval) and watch its run",
    }

    DEFAULT_CSS = """
    CompareScreen {
        #runs-table { height: auto; max-height: 40%; }
        #matrix-box { height: 1fr; border-top: tall $primary 30%; }
        #matrix-table { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.select_run: int | None = None
        """A run to highlight once the runs table shows it (one just started elsewhere)."""

    def compose_body(self) -> ComposeResult:
        with Vertical():
            yield Static("Runs", classes="section-title")
            yield FoldingTable(id="runs-table")
            with Vertical(id="matrix-box"):
                yield Static("", id="matrix-title", classes="section-title", markup=False)
                yield FoldingTable(id="matrix-table")

    def on_mount(self) -> None:
        self.query_one("#runs-table", FoldingTable).set_columns(RUN_COLUMNS)
        self.query_one("#matrix-table", FoldingTable).set_columns(SCOREBOARD_COLUMNS)

    def fetch(self) -> list[RunRow]:
        from llmbench.services import panes

        return panes.runs_overview(self.bench.store)

    def show(self, data: list[RunRow]) -> None:
        self.set_empty(not data)
        table = self.query_one("#runs-table", FoldingTable)
        selected = highlighted_key(table)
        table.fill(
            [
                (
                    str(run.id),
                    (
                        run.name or f"run {run.id}",
                        run.kind,
                        run.status,
                        count(run.cells),
                        pass_rate_text(run.passed, run.checked, run.pass_rate),
                        day(run.created_at),
                        one_line(", ".join(model_label(m) for m in run.models), 40),
                    ),
                )
                for run in data
            ]
        )
        restore_cursor(table, selected)
        if self.select_run is not None and str(self.select_run) in table.rows:
            restore_cursor(table, str(self.select_run))
            self.select_run = None
        self._read_matrix(highlighted_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs-table":
            self._read_matrix(event.row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "runs-table" and event.row_key.value is not None:
            self._open(int(event.row_key.value))

    def _read_matrix(self, key: str | None) -> None:
        if key is None:
            return
        table = self.query_one("#runs-table", DataTable)
        name = str(table.get_row(key)[0])
        store, run_id = self.bench.store, int(key)
        self.query_one("#matrix-title", Static).update(
            f"{name}: scoreboard per version × model (enter opens the run)"
        )

        def read() -> list[GroupStats]:
            # Imported in the worker: the evaluation engine brings the gateway (~400 ms the
            # first time), which held F3's first frame when imported here.
            from llmbench.services.evaluation import engine as evaluation

            return evaluation.scoreboard(store, run_id)

        self.read_in_thread(read, self._show_matrix, group="matrix")

    def _show_matrix(self, groups: list[GroupStats]) -> None:
        self.query_one("#matrix-table", FoldingTable).fill(
            [
                (
                    str(number),
                    (
                        group.version_label or "unsaved draft",
                        model_label(group.model),
                        count(group.cells),
                        pass_rate_text(
                            group.passed, group.cells, group.pass_rate if group.cells else None
                        ),
                        NOTHING
                        if group.mean_judge_score is None
                        else f"{group.mean_judge_score:.2f}",
                        money(group.cost_per_case),
                        millis(group.latency_p50_ms),
                        millis(group.latency_p95_ms),
                        count(group.errors),
                    ),
                )
                for number, group in enumerate(groups)
            ]
        )

    # -- actions -----------------------------------------------------------------------------

    def _selected_run(self) -> int | None:
        key = highlighted_key(self.query_one("#runs-table", DataTable))
        return None if key is None else int(key)

    def _open(self, run_id: int, *, start: bool = False) -> None:
        from llmbench.tui.screens.compare.run import RunScreen

        self.app.push_screen(RunScreen(run_id, start=start))

    def action_open_run(self) -> None:
        run_id = self._selected_run()
        if run_id is not None:
            self._open(run_id)

    def action_report(self) -> None:
        run_id = self._selected_run()
        if run_id is None:
            self.notify("No run to report on yet.", severity="warning")
            return
        from llmbench.tui.screens.compare.report import MigrationReportScreen

        self.app.push_screen(MigrationReportScreen(run_id))

    def action_datasets(self) -> None:
        from llmbench.tui.screens.datasets import DatasetsScreen

        self.app.push_screen(DatasetsScreen())

    def action_eval_suite(self) -> None:
        from llmbench.tui.screens.compare.eval_suite import run_suite_file

        run_suite_file(self)

    def action_new_run(self) -> None:
        from llmbench.services.compare import runs as compare_runs

        # litellm's import (seconds) starts once the dialog is on screen (NewRunDialog).
        store, settings = self.bench.store, self.bench.settings
        self.act_in_thread(
            lambda: compare_runs.choices(store, settings), self._ask_picks, what="New comparison"
        )

    def _ask_picks(self, choices: Choices) -> None:
        if not choices.versions:
            self.notify("Save a prompt version first (F2).", severity="warning")
            return
        from llmbench.tui.screens.compare.new_run import NewRunDialog

        self.app.push_screen(NewRunDialog(choices), self._create)

    def _create(self, picks: Picks | None) -> None:
        if picks is None:
            return
        from llmbench.services.compare import runs as compare_runs

        store = self.bench.store
        self.act_in_thread(
            lambda: compare_runs.new_comparison(store, picks),
            lambda run_id: self._open(run_id, start=True),
            what="New comparison",
        )
