"""F2…F7 open the six panes, and each shows what the demo database holds (checked with SQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from textual.widgets import DataTable, Static

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import count, money, percent
from llmbench.tui.widgets.metric import Metric
from llmbench.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, open_pane, settle


def _iso(moment: object) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # type: ignore[attr-defined]


def _column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_f2_shows_every_prompt_and_the_production_version(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    names = [
        row[0]
        for row in demo_sql.execute(
            "SELECT p.name FROM prompts p JOIN prompt_versions v ON v.prompt_id = p.id"
            " GROUP BY p.id ORDER BY max(v.created_at) DESC"
        )
    ]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f3")
        await open_pane(pilot, "f2")
        assert app.current_mode == "prompts"
        table = app.screen.query_one("#prompts-table", VirtualTable)
        assert [row.cells[0] for row in table.rows] == names  # the latest change first

        (production, production_task) = demo_sql.execute(
            "SELECT v.version, json_extract(v.sections, '$.task') FROM prompt_labels l"
            " JOIN prompt_versions v ON v.id = l.version_id JOIN prompts p ON p.id = l.prompt_id"
            " WHERE p.name = ? AND l.label = 'production'",
            [names[0]],
        ).fetchone()
        detail = _text(app.screen.query_one("#version-detail-text", Static))
        assert f"{names[0]}  v{production}" in detail
        assert "production" in detail
        assert production_task.strip().splitlines()[0] in detail


async def test_f3_shows_runs_with_their_pass_rates(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    expected = {
        name: f"{percent(passed / checked)} ({passed}/{checked})"
        for name, passed, checked in demo_sql.execute(
            "SELECT r.name, sum(v.ok), count(v.ok) FROM runs r"
            " JOIN results res ON res.run_id = r.id"
            " JOIN (SELECT result_id, min(passed) AS ok FROM checks GROUP BY result_id) v"
            " ON v.result_id = res.id GROUP BY r.id"
        )
    }
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f3")
        assert app.current_mode == "compare"
        runs = app.screen.query_one("#runs-table", DataTable)
        assert runs.row_count == len(expected) > 0
        shown = dict(zip(_column(runs, 0), _column(runs, 4), strict=True))
        assert shown == expected

        first_run = _column(runs, 0)[0]
        (cells,) = demo_sql.execute(
            "SELECT count(DISTINCT res.version_id || '/' || res.model) FROM results res"
            " JOIN runs r ON r.id = res.run_id WHERE r.name = ?",
            [first_run],
        ).fetchone()
        assert app.screen.query_one("#matrix-table", DataTable).row_count == cells


async def test_f4_shows_the_grading_queue_for_the_reviewer(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    (items,) = demo_sql.execute(
        "SELECT count(*) FROM results WHERE output IS NOT NULL AND run_id IN"
        " (SELECT DISTINCT res.run_id FROM grades g JOIN results res ON res.id = g.result_id)"
    ).fetchone()
    mine, others = demo_sql.execute(
        "SELECT count(DISTINCT CASE WHEN reviewer = ? THEN result_id END),"
        " count(DISTINCT CASE WHEN reviewer != ? THEN result_id END) FROM grades",
        [REVIEWER, REVIEWER],
    ).fetchone()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f4")
        assert app.current_mode == "grade"
        table = app.screen.query_one("#queue-table", DataTable)
        assert table.get_row_at(0) == [
            "helpfulness",
            count(items),
            count(mine),
            count(others),
            count(items - mine),
        ]
        assert 0 < mine < items
        preview = _text(app.screen.query_one("#next-item-text", Static))
        assert "Next for you" in preview and "OUTPUT" in preview


async def test_f5_shows_thirty_day_cost_totals(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    first_day = (DEMO_NOW - timedelta(days=29)).replace(hour=0, minute=0)
    calls, cost, saving = demo_sql.execute(
        "SELECT count(*), sum(cost), sum(saving) FROM calls WHERE ts >= ? AND ts < ?",
        [_iso(first_day), _iso(DEMO_NOW)],
    ).fetchone()
    (top_model,) = demo_sql.execute(
        "SELECT model FROM calls WHERE ts >= ? AND ts < ? GROUP BY model"
        " ORDER BY sum(cost) DESC LIMIT 1",
        [_iso(first_day), _iso(DEMO_NOW)],
    ).fetchone()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        assert app.current_mode == "costs"
        screen = app.screen
        assert screen.query_one("#metric-calls", Metric).value == count(calls)
        assert screen.query_one("#metric-cost", Metric).value == money(cost)
        assert screen.query_one("#metric-savings", Metric).value == money(saving)
        assert cost > 0 and calls > 0
        models = screen.query_one("#models-table", DataTable)
        assert str(models.get_row_at(0)[0]).startswith(top_model)
        assert len(screen.query_one("#daily-cost").data) == 30


async def test_f6_shows_the_latest_calls_newest_first(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    latest = [
        str(row[0])
        for row in demo_sql.execute("SELECT id FROM calls ORDER BY ts DESC, id DESC LIMIT 100")
    ]
    (total,) = demo_sql.execute("SELECT count(*) FROM calls").fetchone()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        assert app.current_mode == "audit"
        table = app.screen.query_one("#calls-table", DataTable)
        assert _column(table, 0) == latest
        caption = _text(app.screen.query_one("#audit-caption", Static))
        assert caption == f"Latest 100 of {count(total)} calls, newest first"


async def test_f7_shows_the_last_day_against_the_last_week(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    def window(hours: int) -> tuple[int, int]:
        calls, limited = demo_sql.execute(
            "SELECT count(*), sum(status = 'rate_limited') FROM calls WHERE ts >= ? AND ts < ?",
            [_iso(DEMO_NOW - timedelta(hours=hours)), _iso(DEMO_NOW)],
        ).fetchone()
        return calls, limited

    day_calls, day_limited = window(24)
    week_calls, week_limited = window(24 * 7)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        assert app.current_mode == "monitor"
        table = app.screen.query_one("#headline-table", DataTable)
        assert table.get_row("calls") == ["Calls", count(day_calls), count(week_calls)]
        assert table.get_row("rate_limited")[1:] == [
            percent(day_limited / day_calls),
            percent(week_limited / week_calls),
        ]
        assert week_calls > day_calls > 0


async def test_header_names_the_pane_and_the_database(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        assert app.screen.title == "Costs"
        assert app.sub_title == "llmbench — demo.db"
        assert str(app.format_title(app.screen.title, app.sub_title)) == (
            "Costs  ·  llmbench — demo.db"
        )


async def test_simulator_models_are_labelled_as_simulators(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    models = [
        row[0]
        for row in demo_sql.execute("SELECT model FROM calls ORDER BY ts DESC, id DESC LIMIT 100")
    ]
    expected = [f"{m} (simulator)" if m.startswith("llmbench/") else m for m in models]
    assert any(m.startswith("llmbench/") for m in models)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        assert _column(app.screen.query_one("#calls-table", DataTable), 2) == expected


async def test_panes_keep_their_data_when_revisited(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        table = app.screen.query_one("#calls-table", DataTable)
        await pilot.press("down", "down")
        await open_pane(pilot, "f2")
        await open_pane(pilot, "f6")
        assert app.screen.query_one("#calls-table", DataTable) is table
        assert table.cursor_row == 2
        await pilot.press("r")
        await settle(pilot)
        assert table.cursor_row == 2 and table.row_count == 100
