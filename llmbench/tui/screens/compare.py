"""F3 Compare: runs with their size and pass rate; the highlighted run's pass rate per prompt
version × model below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING, count, day, model_label, one_line, percent
from llmbench.tui.screens.base import PaneScreen, highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.store.views import MatrixCell, RunRow


def pass_rate_text(passed: int, checked: int, rate: float | None) -> str:
    return NOTHING if rate is None else f"{percent(rate)} ({passed}/{checked})"


class CompareScreen(PaneScreen["list[RunRow]"]):
    PANE_TITLE = "Compare"
    EMPTY_TEXT = (
        "No runs yet.\n\n"
        "Run `llmbench demo` for example runs, or `llmbench eval` to compare prompt versions "
        "across models."
    )

    DEFAULT_CSS = """
    CompareScreen {
        #runs-table { height: auto; max-height: 40%; }
        #matrix-box { height: 1fr; border-top: tall $primary 30%; }
        #matrix-table { height: 1fr; }
    }
    """

    def compose_body(self) -> ComposeResult:
        with Vertical():
            yield Static("Runs", classes="section-title")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="matrix-box"):
                yield Static("", id="matrix-title", classes="section-title", markup=False)
                yield DataTable(id="matrix-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        runs = self.query_one("#runs-table", DataTable)
        for label, key in (
            ("Run", "name"),
            ("Kind", "kind"),
            ("Status", "status"),
            ("Cells", "cells"),
            ("Pass rate", "pass_rate"),
            ("Created", "created"),
            ("Models", "models"),
        ):
            runs.add_column(label, key=key)
        matrix = self.query_one("#matrix-table", DataTable)
        for label, key in (
            ("Prompt version", "version"),
            ("Model", "model"),
            ("Cells", "cells"),
            ("Pass rate", "pass_rate"),
        ):
            matrix.add_column(label, key=key)

    def fetch(self) -> list[RunRow]:
        from llmbench.services import panes

        return panes.runs_overview(self.bench.store)

    def show(self, data: list[RunRow]) -> None:
        self.set_empty(not data)
        table = self.query_one("#runs-table", DataTable)
        selected = highlighted_key(table)
        table.clear()
        for run in data:
            table.add_row(
                run.name or f"run {run.id}",
                run.kind,
                run.status,
                count(run.cells),
                pass_rate_text(run.passed, run.checked, run.pass_rate),
                day(run.created_at),
                one_line(", ".join(model_label(m) for m in run.models), 40),
                key=str(run.id),
            )
        restore_cursor(table, selected)
        self._read_matrix(highlighted_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs-table":
            self._read_matrix(event.row_key.value)

    def _read_matrix(self, key: str | None) -> None:
        if key is None:
            return
        table = self.query_one("#runs-table", DataTable)
        name = str(table.get_row(key)[0])
        from llmbench.services import panes

        store, run_id = self.bench.store, int(key)
        self.query_one("#matrix-title", Static).update(f"{name}: pass rate per version × model")
        self.read_in_thread(
            lambda: panes.run_matrix(store, run_id), self._show_matrix, group="matrix"
        )

    def _show_matrix(self, cells: list[MatrixCell]) -> None:
        table = self.query_one("#matrix-table", DataTable)
        table.clear()
        for cell in cells:
            version = "unsaved draft"
            if cell.version is not None:
                version = f"{cell.prompt_name} v{cell.version}"
            table.add_row(
                version,
                model_label(cell.model),
                count(cell.cells),
                pass_rate_text(cell.passed, cell.checked, cell.pass_rate),
            )
