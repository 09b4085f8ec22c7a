"""F5's tables change only what a read changed (issue 23): F5 reads its figures again on every
visit, and a refill made the table draw every cell again, most of a visit's time."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.costs import CostsScreen
from llmbench.tui.widgets.costs_breakdown import fill_fitted
from llmbench.tui.widgets.fitted_table import FittedTable
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle

COLUMNS = (("Name", "name"), ("Cost", "cost"))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FittedTable(id="table")


def _cells(table: DataTable[object]) -> list[list[object]]:
    return [table.get_row(row.key) for row in table.ordered_rows]


async def test_a_refill_touches_only_what_changed() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(FittedTable)
        fill_fitted(table, COLUMNS, [("0", ("support", "$1.00")), ("1", ("search", "$2.00"))])
        await pilot.pause()
        rows = list(table.ordered_rows)
        columns = list(table.ordered_columns)

        # The same figures: nothing is set (the same rows and columns, the cursor where it was).
        table.move_cursor(row=1)
        fill_fitted(table, COLUMNS, [("0", ("support", "$1.00")), ("1", ("search", "$2.00"))])
        assert list(table.ordered_rows) == rows and list(table.ordered_columns) == columns
        assert all(a is b for a, b in zip(table.ordered_rows, rows, strict=True))
        assert table.cursor_row == 1

        # A new figure as wide as the old: that cell alone.
        fill_fitted(table, COLUMNS, [("0", ("support", "$1.50")), ("1", ("search", "$2.00"))])
        assert all(a is b for a, b in zip(table.ordered_rows, rows, strict=True))
        assert _cells(table) == [["support", "$1.50"], ["search", "$2.00"]]
        assert table.cursor_row == 1

        # A wider figure: the columns are fitted again.
        fill_fitted(table, COLUMNS, [("0", ("support", "$1,000.50")), ("1", ("search", "$2"))])
        assert [column.width for column in table.ordered_columns] == [7, len("$1,000.50")]
        assert _cells(table) == [["support", "$1,000.50"], ["search", "$2"]]

        # Other rows: refilled.
        fill_fitted(table, COLUMNS, [("1", ("search", "$2")), ("2", ("chat", "$3"))])
        assert [row.key.value for row in table.ordered_rows] == ["1", "2"]
        assert _cells(table) == [["search", "$2"], ["chat", "$3"]]


async def test_a_visit_to_f5_with_the_same_figures_keeps_the_tables(pristine_copy: Path) -> None:
    store = open_db(pristine_copy, create=False)
    app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f5")
            screen = app.screen
            assert isinstance(screen, CostsScreen)
            first_read = screen.data
            tables = [
                screen.query_one(f"#{name}", DataTable)
                for name in ("costs-table", "budgets-table", "alerts-table")
            ]
            before = [list(table.ordered_rows) for table in tables]
            assert before[0], "the demo's breakdown has rows"
            await open_pane(pilot, "f2")
            await open_pane(pilot, "f5")
            assert app.screen is screen
            assert screen.data is not None and screen.data is not first_read  # read again
            for table, rows in zip(tables, before, strict=True):
                assert all(a is b for a, b in zip(table.ordered_rows, rows, strict=True))
                assert len(table.ordered_rows) == len(rows)
            # The last 7 days (w: 90 days, then 7): other figures, shown.
            shown = _cells(tables[0])
            for _ in range(2):
                await pilot.press("w")
                await settle(pilot)
            assert screen.window == "7d"
            assert screen.data is not None and screen.data.window == "7d"
            assert _cells(tables[0]) != shown and tables[0].row_count > 0
    finally:
        store.close()
