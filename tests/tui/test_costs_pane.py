"""F5 against `llmbench costs`: the same window and grouping show the same figures, and the
pane's keys (group by, window, fold, the calls behind a row) do what they say."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from llmbench.core.audit.query import parse
from llmbench.services.costs import budgets
from llmbench.services.costs.drill_down import audit_query_for
from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import count, money
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.costs import CHILD_INDENT, CostsScreen
from llmbench.tui.widgets.metric import Metric
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, demo_settings, open_pane, settle
from tests.tui.costs_support import cli_costs, figures, table_rows


async def test_pane_figures_equal_the_cli_for_the_same_window(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    expected = cli_costs(demo_db, "feature,model")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        assert screen.query_one("#metric-cost", Metric).value == money(expected["total"]["cost"])
        assert screen.query_one("#metric-calls", Metric).value == count(expected["total"]["calls"])
        shown = table_rows(screen)
        lines = []
        for row in expected["rows"]:
            lines.append((row["label"], figures(row)))
            lines += [(child["label"], figures(child)) for child in row["children"]]
        assert len(shown) == len(lines)
        for cells, (label, expected_cells) in zip(shown, lines, strict=True):
            assert cells[0].endswith(label) or cells[0].endswith(f"{label} (simulator)")
            assert cells[1:8] == expected_cells
        assert shown[1][0].startswith(CHILD_INDENT)


async def test_group_by_key_steps_through_views_and_matches_the_cli(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    expected = cli_costs(demo_db, "model,feature")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        assert screen.view == ("model", "feature")
        first = table_rows(screen)[0]
        assert first[1:8] == figures(expected["rows"][0])
        # Folding the first model hides its features; unfolding brings them back.
        rows_before = len(table_rows(screen))
        await pilot.press("space")
        assert len(table_rows(screen)) == rows_before - len(expected["rows"][0]["children"])
        await pilot.press("space")
        assert len(table_rows(screen)) == rows_before


async def test_window_key_widens_the_window(make_app: Callable[..., LLMBenchApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        month = screen.data.breakdown.total.calls  # type: ignore[union-attr]
        await pilot.press("w")
        await settle(pilot)
        assert screen.window == "90d"
        assert screen.data.breakdown.total.calls >= month  # type: ignore[union-attr]
        await pilot.press("w")
        await settle(pilot)
        assert screen.window == "7d"
        assert screen.data.breakdown.total.calls < month  # type: ignore[union-attr]


async def test_o_opens_the_calls_behind_a_row_in_f6(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("down")  # the first feature's most expensive model
        path = screen.selected_path()
        assert path is not None and len(path) == 2
        drill = audit_query_for(screen.data.breakdown, path)  # type: ignore[union-attr]
        assert f'feature:"{path[0].value}"' in drill.query
        assert f'model:"{path[1].value}"' in drill.query
        await pilot.press("o")
        await settle(pilot)
        assert app.current_mode == "audit"
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert audit.applied == parse(drill.query)  # F6 shows exactly the calls behind the row
        assert audit.query_one("#audit-query", Input).value == drill.query


async def test_trends_view_draws_the_month_projection(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        trends = screen.trends
        assert trends is not None and trends.stacked_by == "model"
        assert len(trends.days) == 30 and 1 < len(trends.series) <= 7
        assert sum(calls for _, calls in trends.prompt_tokens) > 0
        caption = str(screen.query_one("#trend-projection", Static).render())
        assert f"heading for {money(trends.projection.projected)}" in caption
        await pilot.press("m")
        await settle(pilot)
        assert screen.trends.stacked_by == "feature"  # type: ignore[union-attr]


async def test_savings_view_lists_cache_savings_and_candidates(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        found = screen.savings
        assert found is not None and found.cache_hits > 0
        text = str(screen.query_one("#savings-text", Static).render())
        assert f"{count(found.cache_hits)} hits saved {money(found.cache_saved)}" in text
        assert "Calls without max_tokens" in text


async def test_alerts_view_lists_budget_and_spike_alerts_and_acknowledges(
    demo_db: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "alerts.db"
    shutil.copy(demo_db, copy)
    store = open_db(copy, create=False)
    try:
        budgets.set_budget(store, "global", "week", 0.01)  # the demo spends more in a week
        budgets.check_costs(store, DEMO_NOW)
        alerts = budgets.cost_alerts(store)
        assert {alert.kind for alert in alerts} == {"budget", "spike"}
        app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f5")
            await pilot.press("a")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CostsScreen)
            table = screen.query_one("#alerts-table", DataTable)
            assert table.row_count == len(alerts)
            first = screen.selected_alert()
            assert first is not None and first.id == alerts[0].id and first.open
            budgets_table = screen.query_one("#budgets-table", DataTable)
            assert str(budgets_table.get_row_at(0)[0]) == "global"
            await pilot.press("x")
            await settle(pilot)
            acked = {alert.id: alert for alert in budgets.cost_alerts(store)}[first.id]
            assert acked.acked_by == REVIEWER
            # A spike's enter opens F6 on its calls.
            spike_row = next(
                index for index, alert in enumerate(budgets.cost_alerts(store))
                if alert.kind == "spike"
            )  # fmt: skip
            table.move_cursor(row=spike_row)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "audit"
    finally:
        store.close()


async def test_p_adds_each_rows_cost_at_todays_prices(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("p")
        await settle(pilot, timeout=30)
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        table = screen.query_one("#costs-table", DataTable)
        assert "repriced" in table.columns
        first = screen.data.breakdown.rows[0]  # type: ignore[union-attr]
        assert first.figures.repriced is not None
        assert str(table.get_row_at(0)[-1]) == money(first.figures.repriced)
        await pilot.press("p")
        await settle(pilot)
        assert "repriced" not in table.columns
