"""F2…F7 open the six panes, and each shows what the demo database holds (checked with SQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from textual.widgets import DataTable, Static

from llmbench.store.grading.queue import LOW_FEEDBACK
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import count, money, percent
from llmbench.tui.screens.monitor import ALL_ROW
from llmbench.tui.widgets.call_log import COLUMNS_BY_KEY, CallLog
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
    # The queue `g` opens: the graded runs' results and the flagged production calls; a
    # pairwise preference is no grade of an item.
    (items,) = demo_sql.execute(
        "SELECT (SELECT count(*) FROM results WHERE output IS NOT NULL AND run_id IN"
        " (SELECT DISTINCT res.run_id FROM grades g JOIN results res ON res.id = g.result_id))"
        " + (SELECT count(*) FROM calls WHERE run_id IS NULL AND status = 'ok' AND (flagged = 1"
        f" OR id IN (SELECT f.call_id FROM feedback f WHERE {LOW_FEEDBACK})))"
    ).fetchone()
    mine, others = demo_sql.execute(
        "SELECT count(DISTINCT CASE WHEN reviewer = ? THEN result_id END),"
        " count(DISTINCT CASE WHEN reviewer != ? THEN result_id END) FROM grades"
        " WHERE mode != 'pairwise'",
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
    first_day = DEMO_NOW - timedelta(days=30)
    calls, cost, saving = demo_sql.execute(
        "SELECT count(*), sum(cost), sum(saving) FROM calls WHERE ts >= ? AND ts < ?",
        [_iso(first_day), _iso(DEMO_NOW)],
    ).fetchone()
    (top_feature,) = demo_sql.execute(
        "SELECT feature FROM calls WHERE ts >= ? AND ts < ? GROUP BY feature"
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
        breakdown = screen.query_one("#costs-table", DataTable)
        assert str(breakdown.get_row_at(0)[0]).endswith(top_feature)
        assert len(screen.query_one("#daily-cost").data) == 30


async def test_f6_shows_the_latest_calls_newest_first(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    latest = [
        row[0]
        for row in demo_sql.execute("SELECT id FROM calls ORDER BY ts DESC, id DESC LIMIT 100")
    ]
    (total,) = demo_sql.execute("SELECT count(*) FROM calls").fetchone()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        assert app.current_mode == "audit"
        log = app.screen.query_one("#call-log", CallLog)
        assert [row.id for row in log.rows[:100]] == latest
        status = _text(app.screen.query_one("#audit-status", Static))
        assert status.startswith(f"{count(total)} calls  ·  row 1  ·  #{latest[0]} at ")


async def test_f7_shows_window_health_per_model(
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
    (week_top_model,) = demo_sql.execute(
        "SELECT model FROM calls WHERE ts >= ? AND ts < ? GROUP BY model"
        " ORDER BY count(*) DESC, model LIMIT 1",
        [_iso(DEMO_NOW - timedelta(days=7)), _iso(DEMO_NOW)],
    ).fetchone()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        assert app.current_mode == "monitor"
        screen = app.screen
        assert screen.query_one("#metric-requests", Metric).value == count(day_calls)
        models = screen.query_one("#models-table", DataTable)
        assert models.get_row(ALL_ROW)[1] == count(day_calls)
        assert models.get_row(ALL_ROW)[8] == percent(day_limited / day_calls)

        await pilot.press("3")
        await settle(pilot)
        assert screen.query_one("#metric-requests", Metric).value == count(week_calls)
        assert models.get_row(ALL_ROW)[8] == percent(week_limited / week_calls)
        assert str(models.get_row_at(1)[0]).startswith(week_top_model)
        assert len(screen.query_one("#spark-requests").data) == 7 * 24 * 60 // 120
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
        log = app.screen.query_one("#call-log", CallLog)
        model = COLUMNS_BY_KEY["model"]
        assert [model.cell(row) for row in log.rows[:100]] == expected


async def test_panes_keep_their_data_when_revisited(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        log = app.screen.query_one("#call-log", CallLog)
        await pilot.press("down", "down")
        await open_pane(pilot, "f2")
        await open_pane(pilot, "f6")
        assert app.screen.query_one("#call-log", CallLog) is log
        assert log.cursor == 2 and log.row_number == 3
        # r reads the log again from its newest call.
        await pilot.press("r")
        await settle(pilot)
        assert log.cursor == 0 and log.row_number == 1 and len(log.rows) >= 100
