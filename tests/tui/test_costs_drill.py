"""F5's drill-down (feature → model → day, and back up to the row it came from), its
breadcrumb, and the filter inside the pane, pressed with the real keys; every level's figures
are those of `llmbench costs --by … --where …` for the same window."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from textual.widgets import DataTable, Input, Static

from llmbench.cli import cli
from llmbench.core.audit.query import parse
from llmbench.services.costs.drill_down import audit_query_for
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import count, money
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.costs import CostsScreen
from llmbench.tui.widgets.metric import Metric
from llmbench.tui.widgets.table_cursor import highlighted_key
from tests.tui.conftest import SIZE, open_pane, settle
from tests.tui.costs_support import cli_costs, figures, table_rows


def _names(screen: CostsScreen) -> list[str]:
    return [cells[0] for cells in table_rows(screen)]


def _breadcrumb(screen: CostsScreen) -> str:
    return str(screen.query_one("#costs-breadcrumb", Static).render())


def _assert_level_equals_the_cli(screen: CostsScreen, expected: dict) -> None:
    shown = table_rows(screen)
    assert len(shown) == len(expected["rows"])
    for cells, row in zip(shown, expected["rows"], strict=True):
        assert cells[0] in (row["label"], f"{row['label']} (simulator)")
        assert cells[1:8] == figures(row)
    assert screen.query_one("#metric-cost", Metric).value == money(expected["total"]["cost"])
    assert screen.query_one("#metric-calls", Metric).value == count(expected["total"]["calls"])


def _cursor_row(screen: CostsScreen) -> int:
    return screen.query_one("#costs-table", DataTable).cursor_row


async def test_enter_goes_feature_to_model_to_day_with_the_clis_figures_and_escape_comes_back(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    top = cli_costs(demo_db, "feature,model")
    feature = top["rows"][1]["label"]  # the second feature: coming back must find its row
    by_model = cli_costs(demo_db, "model", f"feature={feature}")
    model = by_model["rows"][1]["value"]
    by_day = cli_costs(demo_db, "day", f"feature={feature}", f"model={model}")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        assert _breadcrumb(screen) == "by feature → model"
        await pilot.press("space", "down")  # fold the first feature: the second is one row down
        feature_row = _cursor_row(screen)
        assert _names(screen)[feature_row] == f"▾ {feature}"

        await pilot.press("enter")
        await settle(pilot)
        assert _breadcrumb(screen).startswith(f"feature {feature} › by model")
        _assert_level_equals_the_cli(screen, by_model)

        await pilot.press("down", "enter")
        await settle(pilot)
        assert _breadcrumb(screen).startswith(f"feature {feature} › model {model} › by day")
        _assert_level_equals_the_cli(screen, by_day)
        assert _names(screen) == [row["label"] for row in by_day["rows"]]

        await pilot.press("escape")
        await settle(pilot)
        assert _breadcrumb(screen).startswith(f"feature {feature} › by model")
        assert _cursor_row(screen) == 1  # on the model it came from
        _assert_level_equals_the_cli(screen, by_model)

        await pilot.press("backspace")
        await settle(pilot)
        assert _breadcrumb(screen) == "by feature → model"
        assert _cursor_row(screen) == feature_row  # on the feature it came from, still folded
        assert highlighted_key(screen.query_one("#costs-table", DataTable)) == "1"
        assert screen.query_one("#metric-cost", Metric).value == money(top["total"]["cost"])


async def test_enter_on_a_day_opens_that_days_calls_in_f6(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("down", "enter")  # the top feature's top model: straight to its days
        await settle(pilot)
        assert screen.level.by == ("day",)
        await pilot.press("down")
        path = screen.selected_path()
        assert path is not None and screen.data is not None
        drill = audit_query_for(screen.data.breakdown, path)
        day = path[0].label
        assert f"since:{day}T00:00:00Z" in drill.query
        for dimension, value in screen.level.filters.items():
            assert f'{dimension}:"{value}"' in drill.query
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "audit"
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert audit.applied == parse(drill.query)


async def test_g_starts_the_next_grouping_at_its_top(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.level.depth == 1
        await pilot.press("g")
        await settle(pilot)
        assert screen.level.depth == 0 and screen.level.by == ("model", "feature")
        assert _breadcrumb(screen) == "by model → feature"
        await pilot.press("escape")  # nothing above the top: it stays
        await settle(pilot)
        assert screen.level.by == ("model", "feature")


async def test_slash_narrows_the_rows_of_the_level_and_escape_clears_it(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    top = cli_costs(demo_db, "feature,model")
    every_row = sum(1 + len(row["children"]) for row in top["rows"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        field = screen.query_one("#costs-filter", Input)
        assert not field.display
        await pilot.press("slash")
        assert field.display and screen.focused is field
        await pilot.press(*"MINI")
        await pilot.pause()
        # Each feature with a model named …mini…, and only those models under it.
        expected: list[str] = []
        for row in top["rows"]:
            minis = [c["label"] for c in row["children"] if "mini" in c["label"].lower()]
            if minis:
                expected += [f"▾ {row['label']}", *(f"  └ {label}" for label in minis)]
        shown = _names(screen)
        assert [name.removesuffix(" (simulator)") for name in shown] == expected
        assert f"filter “MINI”: {len(expected)} of {every_row} rows" in _breadcrumb(screen)

        await pilot.press("enter")  # back to the rows, still narrowed
        assert screen.focused is screen.query_one("#costs-table")
        assert len(_names(screen)) == len(expected)
        await pilot.press("slash", "escape")  # escape in the filter clears it
        await pilot.pause()
        assert field.value == "" and not field.display
        assert len(_names(screen)) == every_row
        assert screen.focused is screen.query_one("#costs-table")


async def test_the_filter_narrows_a_drilled_level_and_ends_with_it(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    top = cli_costs(demo_db, "feature,model")
    feature = top["rows"][0]["label"]
    models = [row["label"] for row in cli_costs(demo_db, "model", f"feature={feature}")["rows"]]
    wanted = "claude"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash", *wanted)
        await pilot.pause()
        assert _names(screen) == [model for model in models if wanted in model]
        assert 0 < len(_names(screen)) < len(models)
        await pilot.press("enter", "escape")  # to the rows, then up: the filter ends there
        await settle(pilot)
        assert screen.level.depth == 0 and screen.narrowed_to == ""
        assert not screen.query_one("#costs-filter", Input).display
        assert len(_names(screen)) == sum(1 + len(row["children"]) for row in top["rows"])


async def test_at_80x24_the_breadcrumb_and_the_cost_column_stay_in_sight(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        for keys in ((), ("enter",), ("enter",), ("slash", "2")):
            await pilot.press(*keys)
            await settle(pilot)
            crumb = screen.query_one("#costs-breadcrumb", Static)
            assert crumb.region.height == 1 and crumb.region.y < 24
            assert screen.level.by[0] in _breadcrumb(screen)
            table = screen.query_one("#costs-table", DataTable)
            assert table.region.height >= 3 and table.region.bottom <= 23  # above the footer
            assert table.scroll_x == 0
            right_edge = 0
            for column in table.ordered_columns:
                right_edge += column.get_render_width(table)
                if column.key.value == "cost":
                    break
            assert right_edge <= table.scrollable_content_region.width, keys
        assert screen.level.by == ("day",) and screen.narrowed_to == "2"


async def test_an_untagged_feature_drills_down_as_the_clis_where_dash(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    top = cli_costs(demo_db, "feature,model")
    untagged = next(i for i, row in enumerate(top["rows"]) if row["value"] is None)
    expected = cli_costs(demo_db, "model", "feature=-")
    assert expected["total"]["calls"] == top["rows"][untagged]["calls"]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        table = screen.query_one("#costs-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(untagged)))
        await pilot.press("enter")
        await settle(pilot)
        assert _breadcrumb(screen).startswith("feature (untagged) › by model")
        _assert_level_equals_the_cli(screen, expected)


async def test_a_level_the_window_no_longer_holds_stays_to_go_back_up_from(
    make_app: Callable[..., LLMBenchApp], demo_db: Path
) -> None:
    week = ("--since", "2025-05-25T12:00", "--until", "2025-06-01T12:00")  # the `7d` window
    top = cli_costs(demo_db, "feature,model")
    in_the_week = json.loads(
        CliRunner()
        .invoke(cli, ["costs", "--db", str(demo_db), "--by", "feature,model", *week,
                      "--format", "json"])
        .output
    )  # fmt: skip
    this_week = {(r["label"], c["label"]) for r in in_the_week["rows"] for c in r["children"]}
    feature, model = next(
        (row, child)
        for row in top["rows"]
        for child in row["children"]
        if row["value"] is not None and (row["label"], child["label"]) not in this_week
    )
    key = f"{top['rows'].index(feature)}.{feature['children'].index(model)}"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        table = screen.query_one("#costs-table", DataTable)
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.level.filters == {"feature": feature["value"], "model": model["value"]}
        await pilot.press("w", "w")  # 30 days → 90 → 7
        await settle(pilot)
        assert screen.window == "7d" and table.row_count == 0
        assert not screen.has_class("-empty")  # the pane stays, with where it is
        assert _breadcrumb(screen).endswith("no calls in this window (esc: up)")
        await pilot.press("escape")  # back to the top it was drilled from, this week's rows
        await settle(pilot)
        assert _breadcrumb(screen) == "by feature → model"
        assert len(table_rows(screen)) == sum(1 + len(r["children"]) for r in in_the_week["rows"])
