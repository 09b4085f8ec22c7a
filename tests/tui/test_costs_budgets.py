"""Budgets made and deleted from F5's alerts view (what `llmbench budgets set` and `delete` do),
refused with a clear message on bad input (nothing saved), and offered by the command palette;
pressed with the real keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from llmbench.services.costs import budgets
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.costs import CostsScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, FormDialog
from llmbench.tui.screens.help import HelpScreen
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _saved(store: Store) -> list[tuple[str, str, str, float]]:
    return [
        (s.budget.scope, s.budget.scope_value, s.budget.period, s.budget.limit_usd)
        for s in budgets.budget_status(store, DEMO_NOW)
    ]


def _budget_rows(app: LLMBenchApp) -> list[list[str]]:
    table = app.screen.query_one("#budgets-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _until_listed(pilot: Pilot[None], app: LLMBenchApp, scopes: list[str]) -> None:
    """The pane reads its budgets again once a change is written: on a busy machine that read
    may still be under way when the app first looks idle."""
    for _ in range(250):
        if [row[0] for row in _budget_rows(app)] == scopes:
            return
        await pilot.pause(0.02)
    assert [row[0] for row in _budget_rows(app)] == scopes


def _error(dialog: FormDialog) -> str:
    return str(dialog.query_one("#form-error", Static).render())


async def _type_over(pilot: Pilot[None], *text: str) -> None:
    await pilot.press("ctrl+u", *text)  # the focused field emptied, then typed


async def test_b_in_the_alerts_view_saves_a_budget_as_the_cli_would(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("a", "b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        assert dialog.query_one("#field-scope", Input).value == "global"
        await _type_over(pilot, *"feature=search-answer")
        await pilot.press("tab", "enter", "down", "enter")  # the period: week (after month)
        await pilot.pause()
        assert dialog.query_one("#field-period", Select).value == "week"
        await pilot.press("tab", *"$1,250.50", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CostsScreen)
        assert _saved(own_store) == [("feature", "search-answer", "week", 1250.5)]
        await _until_listed(pilot, app, ["feature=search-answer"])
        scope, period, _spent, limit, *_ = _budget_rows(app)[0]
        assert (scope, period, limit) == ("feature=search-answer", "week", "$1,250.50")


async def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("a", "b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        await pilot.press("tab", "tab", *"ten dollars", "enter")
        await pilot.pause()
        assert app.screen is dialog
        assert _error(dialog) == (
            "The limit 'ten dollars' is not a number of US dollars, e.g. 100 or 12.50."
        )
        await _type_over(pilot, "0")
        await pilot.press("enter")
        await pilot.pause()
        assert _error(dialog) == "A budget's limit is above $0."
        await _type_over(pilot, "50")
        await pilot.press("shift+tab", "shift+tab")
        await _type_over(pilot, *"feature")  # a scope other than global needs its value
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert _error(dialog) == "Feature needs a value, e.g. feature=search-answer."
        await _type_over(pilot, *"region=eu")
        await pilot.press("enter")
        await pilot.pause()
        assert _error(dialog).startswith("Unknown scope 'region'")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CostsScreen)
        assert _saved(own_store) == []
        assert _budget_rows(app) == []


async def test_the_scope_is_filled_in_from_the_feature_drilled_into(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("enter")  # the top feature, by model
        await settle(pilot)
        feature = screen.level.filters["feature"]
        await pilot.press("a", "b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        assert dialog.query_one("#field-scope", Input).value == f"feature={feature}"
        await pilot.press("tab", "tab", "2", "5", "enter")
        await settle(pilot)
        assert _saved(own_store) == [("feature", str(feature), "month", 25.0)]


async def test_d_deletes_the_highlighted_budget_once_confirmed(own_store: Store) -> None:
    budgets.set_budget(own_store, "global", "month", 500)
    budgets.set_budget(own_store, "model=gpt-4o", "day", 5)
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("a")
        await settle(pilot)
        assert [row[0] for row in _budget_rows(app)] == ["global", "model=gpt-4o"]
        app.screen.query_one("#budgets-table", DataTable).focus()
        await pilot.press("down", "d")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert "model=gpt-4o: $5.00 per day" in confirm.question
        await pilot.press("n")
        await settle(pilot)
        assert len(_saved(own_store)) == 2
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert _saved(own_store) == [("global", "", "month", 500.0)]
        await _until_listed(pilot, app, ["global"])


async def test_b_still_shows_the_breakdown_outside_the_alerts_view(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("t", "b")
        await settle(pilot)
        assert screen.current == "breakdown" and isinstance(app.screen, CostsScreen)
        await pilot.press("a", "escape")  # escape leaves the alerts view for the breakdown
        await settle(pilot)
        assert screen.current == "breakdown"


async def test_the_palette_offers_the_new_budget_from_another_pane(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode != "costs"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Costs: New budget")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "costs"
        assert isinstance(app.screen, FormDialog)
        assert app.screen.dialog_title == "New budget"
        await pilot.press("tab", "tab", "9", "enter")
        await settle(pilot)
        assert _saved(own_store) == [("global", "", "month", 9.0)]
        screen = app.screen
        assert isinstance(screen, CostsScreen) and screen.current == "alerts"


def _help_ids(app: LLMBenchApp) -> dict[str, list[str]]:
    assert isinstance(app.screen, HelpScreen)
    table = app.screen.query_one("#help-keys", DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[2]: row[:2] for row in rows}


async def test_f1_lists_the_new_keys_with_their_ids(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("f1")
        await pilot.pause()
        by_id = _help_ids(app)
        assert by_id["costs_drill_down"][1] == "Drill down"
        assert by_id["costs_up"][1] == "Up"
        assert by_id["costs_filter"][1] == "Filter"
        assert by_id["costs_open_calls"] == ["o", "Calls (F6)"]
        assert by_id["budget_delete"] == ["d", "Delete budget"]
        assert by_id["costs_view_breakdown"] == ["b", "Breakdown"]
        await pilot.press("escape", "a", "f1")  # in the alerts view, b makes a budget
        await pilot.pause()
        by_id = _help_ids(app)
        assert by_id["budget_new"] == ["b", "New budget"]
        assert "costs_view_breakdown" not in by_id


async def test_d_elsewhere_shows_the_budgets_and_deletes_nothing(own_store: Store) -> None:
    budgets.set_budget(own_store, "global", "month", 500)
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("d")
        await settle(pilot)
        assert screen.current == "alerts" and isinstance(app.screen, CostsScreen)
        assert screen.focused is screen.query_one("#budgets-table")
        assert len(_saved(own_store)) == 1
