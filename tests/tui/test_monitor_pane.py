"""The Monitor pane with its real keys, on private databases: switch windows, acknowledge an
alert, look for drift, purge per the retention policy (dry run, then for real), verify."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from llmbench.config import GeneralSettings, RetentionSettings, Settings
from llmbench.demo.build import build_demo
from llmbench.demo.optimize_runs import call_count
from llmbench.store.alerts import add_alert
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import count
from llmbench.tui.screens.maintenance import PurgeDialog
from llmbench.tui.screens.monitor import MonitorScreen
from llmbench.tui.widgets.metric import Metric
from tests.support.traffic import add_thumbs, daily_calls, write_calls
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, open_pane, settle


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[Store]:
    """A small demo built in this test's home, so its chain key is here to purge and verify."""
    path = build_demo(tmp_path / "demo.db", seed=3, calls=800, now=DEMO_NOW).path
    store = open_db(path, create=False)
    yield store
    store.close()


def _app(store: Store, **retention: int) -> LLMBenchApp:
    settings = Settings(
        general=GeneralSettings(reviewer=REVIEWER), retention=RetentionSettings(**retention)
    )
    return LLMBenchApp(store, settings, db_label="demo.db", clock=lambda: DEMO_NOW)


def _sql(store: Store, query: str, *args: object) -> tuple:
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return conn.execute(query, args).fetchone()
    finally:
        conn.close()


def _pane(app: LLMBenchApp) -> MonitorScreen:
    assert isinstance(app.screen, MonitorScreen), app.screen
    return app.screen


def _alerts(app: LLMBenchApp) -> list[list[str]]:
    table = _pane(app).query_one("#alerts-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def _until_screen(pilot: Pilot[None], screen_type: type) -> None:
    for _ in range(200):
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


async def test_acknowledging_an_alert_with_a(own_store: Store) -> None:
    alert_id = own_store.write(
        lambda db: add_alert(db, "drift", "warning", "Latency p95 up 9.0% since 2025-05-28", {})
    )
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        assert _alerts(app)[0][1:] == [
            "warning", "drift", "Latency p95 up 9.0% since 2025-05-28", "open",
        ]  # fmt: skip
        title = str(_pane(app).query_one("#alerts-title", Static).render())
        assert title.startswith("Alerts: 1 open of 1")
        await pilot.press("a")
        await settle(pilot)
        assert _sql(own_store, "SELECT acked_by FROM alerts WHERE id = ?", alert_id) == (REVIEWER,)
        assert _alerts(app)[0][-1] == f"acked by {REVIEWER}"
        await pilot.press("a")  # already acknowledged: said, not written again
        await settle(pilot)
        assert _sql(own_store, "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL") == (1,)


async def test_c_looks_for_drift_and_lists_what_it_found_once(tmp_path: Path) -> None:
    with open_db(tmp_path / "traffic.db") as store:
        ids = write_calls(store, daily_calls(DEMO_NOW, slower_after_day=22, per_day=60))
        add_thumbs(store, ids, 0.9)
        app = _app(store)
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f7")
            assert _alerts(app) == []
            for _ in range(2):  # the second check finds the same drift: no new alert
                await pilot.press("c")
                await settle(pilot)
                messages = [row[3] for row in _alerts(app)]
                assert len(messages) == 2, messages
                assert any(m.startswith("gpt-4o latency p95 up") for m in messages)
                assert any(m.startswith("Latency p95 up") for m in messages)
            detail = str(_pane(app).query_one("#alert-detail", Static).render())
            assert "since 2025-05-2" in detail and "Next: Open F6 filtered to" in detail


async def test_window_keys_switch_the_figures(own_store: Store) -> None:
    def calls_since(hours: int) -> int:
        (n,) = _sql(
            own_store,
            "SELECT count(*) FROM calls WHERE ts >= strftime('%Y-%m-%dT%H:%M:%fZ', ?, ?)"
            " AND ts < ?",
            DEMO_NOW.strftime("%Y-%m-%d %H:%M:%S"),
            f"-{hours} hours",
            "2025-06-01T12:00:00.000Z",
        )
        return n

    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        requests = _pane(app).query_one("#metric-requests", Metric)
        assert _pane(app).window == "24h" and requests.value == count(calls_since(24))
        for key, window, hours in (("3", "7d", 168), ("4", "30d", 720), ("1", "1h", 1)):
            await pilot.press(key)
            await settle(pilot)
            assert _pane(app).window == window
            assert requests.value == count(calls_since(hours))
            bar = str(_pane(app).query_one("#window-bar", Static).render())
            assert f"all {requests.value} calls read" in bar
        assert calls_since(720) > calls_since(168) > calls_since(24) > 0


async def test_purge_without_a_policy_says_how_to_set_one(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
        assert any("no retention policy" in n.message for n in app._notifications)


async def test_purge_dry_run_then_for_real_then_verify(own_store: Store) -> None:
    cutoff, redact = "2025-05-12T12:00:00.000Z", "2025-05-25T12:00:00.000Z"
    (older,) = _sql(own_store, "SELECT count(*) FROM calls WHERE ts < ?", cutoff)
    app = _app(own_store, delete_after_days=20, redact_after_days=7)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        await pilot.press("p")
        await _until_screen(pilot, PurgeDialog)
        plan = str(app.screen.query_one("#purge-plan", Static).render())
        assert plan.startswith(f"This will delete {older:,} calls before {cutoff}; purge the")
        await pilot.press("n")  # the dry run changed nothing, and no is no
        await _until_screen(pilot, MonitorScreen)
        # and the optimizer prompt's 40 and the recorded bake-off's cells
        assert _sql(own_store, "SELECT count(*) FROM calls") == (840 + call_count(),)

        await pilot.press("p")
        await _until_screen(pilot, PurgeDialog)
        await pilot.press("v")  # purge and vacuum
        await _until_screen(pilot, MonitorScreen)
        await settle(pilot)
        (kept,) = _sql(own_store, "SELECT count(*) FROM calls")
        assert 840 - older <= kept < 840
        assert (
            _sql(own_store, "SELECT count(*) FROM calls WHERE ts < ?", redact)[0]
            == (_sql(own_store, "SELECT count(*) FROM calls WHERE purged_at IS NOT NULL")[0])
        )
        assert stat.S_IMODE(own_store.path.stat().st_mode) == 0o600
        retention = [row for row in _alerts(app) if row[2] == "retention"]
        assert len(retention) == 1
        assert retention[0][3].startswith(f"Retention purge by {REVIEWER}: deleted")

        await pilot.press("v")
        await settle(pilot)
        integrity = str(_pane(app).query_one("#integrity", Static).render())
        assert integrity.startswith(f"Integrity ok: {kept:,} calls verified, ")
        assert "with purged bodies" in integrity


async def test_verify_names_an_edited_row(own_store: Store) -> None:
    conn = sqlite3.connect(own_store.path)
    conn.executescript("DROP TRIGGER calls_no_update; UPDATE calls SET cost = 9 WHERE id = 123;")
    conn.close()
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        await pilot.press("v")
        await settle(pilot)
        integrity = str(_pane(app).query_one("#integrity", Static).render())
        assert integrity.startswith(
            "Integrity FAILED at call 123: call 123 was edited after it was sealed"
        )


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_every_card_is_on_screen_at_80x24_and_at_200x60(
    own_store: Store, size: tuple[int, int]
) -> None:
    app = _app(own_store)
    async with app.run_test(size=size) as pilot:
        await open_pane(pilot, "f7")
        width, _ = size
        cards = list(_pane(app).query(Metric))
        assert len(cards) == 7
        for card in cards:
            region = card.region
            assert region.width >= 12 and region.height >= 2, (card.label, region)
            assert region.right <= width, (card.label, region)
        # The alerts stay reachable: the body scrolls down to them at the small size.
        alerts = _pane(app).query_one("#alerts-table", DataTable)
        alerts.scroll_visible(animate=False)
        await settle(pilot)
        assert alerts.region.height >= 2 and alerts.region.bottom <= size[1]
