"""F3's runs and scoreboard and F7's model table at 80×24 (issue 17): the columns that matter
stay and fit without a horizontal scroll, the others fold, least important first, and come
back when the terminal widens."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import NOTHING
from llmbench.tui.screens.monitor import MODEL_COLUMNS
from llmbench.tui.widgets.folding_table import (
    MIN_CUT_WIDTH,
    FoldColumn,
    FoldingTable,
    cut,
    cut_widths,
    shown_columns,
)
from tests.tui.conftest import DEMO_NOW, demo_settings, open_pane, settle


def test_columns_fold_highest_first_and_empty_ones_before_any() -> None:
    columns = (
        FoldColumn("name", "Name"),
        FoldColumn("judge", "Judge", fold=1),
        FoldColumn("cost", "Cost", fold=2),
        FoldColumn("errors", "Errors", fold=3),
    )
    rows = [("a", ("a-long-name", NOTHING, "$0.0023", "0"))]
    widths = {"name": 13, "judge": 7, "cost": 9, "errors": 8}  # content + 2 cells of padding
    assert shown_columns(columns, rows, sum(widths.values())) == ("name", "judge", "cost", "errors")
    # One cell short: the judge column says nothing, so it goes first despite its low fold.
    assert shown_columns(columns, rows, sum(widths.values()) - 1) == ("name", "cost", "errors")
    assert shown_columns(columns, rows, 13 + 9) == ("name", "cost")
    assert shown_columns(columns, rows, 5) == ("name",)  # a column that never folds stays


def _fits(table: FoldingTable) -> None:
    assert table.virtual_size.width <= table.scrollable_content_region.width, table.id


async def test_f3_and_f7_fit_80_columns_and_use_the_room_when_wider(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f3")
        runs = app.screen.query_one("#runs-table", FoldingTable)
        board = app.screen.query_one("#matrix-table", FoldingTable)
        assert {"name", "status", "cells", "pass_rate"} <= set(runs.shown)
        assert {"version", "model", "pass_rate", "cost"} <= set(board.shown)
        assert board.row_count > 0 and "%" in str(board.get_row_at(0)[2])
        _fits(runs)
        _fits(board)

        await open_pane(pilot, "f7")
        models = app.screen.query_one("#models-table", FoldingTable)
        assert {"model", "requests", "p50", "p95", "errors", "cost"} <= set(models.shown)
        assert "tokens" not in models.shown
        _fits(models)

        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        assert models.shown == tuple(column.key for column in MODEL_COLUMNS)
        await open_pane(pilot, "f3")
        assert len(board.shown) == len(board.fold_columns)


def test_a_cut_column_gives_up_cells_only_when_folding_is_not_enough() -> None:
    columns = (
        FoldColumn("name", "Run", cut=True),
        FoldColumn("status", "Status"),
        FoldColumn("models", "Models", fold=1),
    )
    rows = [("1", ("a run named at length, with its purpose and date", "done", "gpt-4o"))]
    shown = shown_columns(columns, rows, 40)
    assert shown == ("name", "status")  # the foldable column went first
    assert cut_widths(columns, rows, shown, 40) == {"name": 40 - 2 * 2 - len("Status")}
    assert cut_widths(columns, rows, shown, 200) == {}
    assert cut_widths(columns, rows, shown, 10) == {"name": MIN_CUT_WIDTH}
    assert cut("a run named at length", 8) == "a run n…"
    assert cut("short", 8) == "short"


async def test_f3s_long_run_names_are_cut_to_fit_80_columns(
    pristine_copy: Path, make_app: Callable[..., LLMBenchApp]
) -> None:
    long_name = "support-reply v4 on Claude 3.5 Sonnet vs Claude 3.5 Haiku on support-tickets"
    connection = sqlite3.connect(pristine_copy)
    connection.execute("UPDATE runs SET name = ?", (long_name,))
    connection.commit()
    connection.close()
    with open_db(pristine_copy, create=False) as store:
        app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_pane(pilot, "f3")
            runs = app.screen.query_one("#runs-table", FoldingTable)
            name = str(runs.get_row_at(0)[0])
            assert name.endswith("…") and long_name.startswith(name[:-1])
            _fits(runs)
            await pilot.resize_terminal(200, 60)
            await settle(pilot)
            assert str(runs.get_row_at(0)[0]) == long_name  # room enough: whole again
