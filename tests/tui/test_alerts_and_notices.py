"""Issue 17's wrong-or-misleading items in the TUI, each pressed as a user would: F5's `c`
raises one alert per spike incident (its series runs listed in the detail) and sizes the
alerts table at once; F7 words every kind of alert from its own facts and says "all N calls"
when its sample read them all; F6's export writes what the file name says; the key-storage
notice is shown once per database."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from rich.cells import cell_len
from textual.widgets import DataTable, Input, Static

from llmbench.config import Settings
from llmbench.services.costs import budgets
from llmbench.services.costs.spike_alerts import incidents
from llmbench.services.monitoring import health
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.costs import CostsScreen
from llmbench.tui.screens.dialogs import FormDialog
from llmbench.tui.screens.monitor import MonitorScreen
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_f5_c_raises_one_alert_per_incident_listed_whole_and_sized_at_once(
    own_store: Store,
) -> None:
    spikes = budgets.find_spikes(own_store, DEMO_NOW)
    expected = incidents(spikes)
    assert len(expected) < len(spikes)  # the demo's month has incidents of several buckets
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        alerts = budgets.cost_alerts(own_store)
        assert len(alerts) == len(expected)  # one alert per incident, not per bucket
        assert sorted(len(a.context["children"]) for a in alerts) == sorted(
            len(runs) for runs in expected
        )
        # Right after the check (no `r`), every column is as wide as its widest cell.
        table = screen.query_one("#alerts-table", DataTable)
        rows = _rows(table)
        assert len(rows) == len(alerts)
        for position, column in enumerate(table.ordered_columns):
            widest = max(cell_len(row[position]) for row in rows)
            assert column.width >= widest, (str(column.label), column.width, widest)
        # The biggest incident's detail names every series that spiked in it.
        biggest = max(alerts, key=lambda alert: len(alert.context["children"]))
        table.move_cursor(row=[a.id for a in alerts].index(biggest.id))
        await settle(pilot)
        detail = str(screen.query_one("#alert-detail", Static).render())
        runs = biggest.context["children"]
        assert f"{len(runs)} series spiked in this incident:" in detail
        for run in runs[:8]:
            assert run["text"] in detail
        assert "None" not in detail and "Next: Open the calls" in detail
        # Checking again finds the same incidents: nothing new.
        await pilot.press("c")
        await settle(pilot)
        assert len(budgets.cost_alerts(own_store)) == len(alerts)


async def test_f7_words_spike_budget_and_drift_alerts_completely(own_store: Store) -> None:
    budgets.set_budget(own_store, "feature=summarize", "week", 0.01)
    budgets.check_costs(own_store, DEMO_NOW)
    health.check_drift(own_store, now=DEMO_NOW)
    kinds = {alert.kind for alert in health.list_alerts(own_store)}
    assert {"spike", "budget"} <= kinds
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        table = screen.query_one("#alerts-table", DataTable)
        seen: set[str] = set()
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            alert = screen._highlighted_alert()
            assert alert is not None
            detail = str(screen.query_one("#alert-detail", Static).render())
            assert "None" not in detail, detail
            assert detail.startswith(f"#{alert.id} "), detail
            if alert.kind == "spike":
                assert alert.message in detail
            if alert.kind == "budget":
                assert "budget feature=summarize, $0.01 a week: spent $" in detail
            if alert.kind == "drift":
                assert f"since {alert.context['since']}, found" in detail
            seen.add(alert.kind)
        assert {"spike", "budget"} <= seen


async def test_f7_says_all_calls_when_its_sample_read_every_call(
    own_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    (total,) = (
        own_store.read()
        .execute("SELECT count(*) FROM calls WHERE ts >= '2025-05-02T12:00:00.000Z'")
        .fetchone()
    )
    # Just under the window's calls: read as a "sample" whose runs cover every call, which
    # is no sample at all (20,116 calls on a 20,000 limit in the issue).
    report = health.monitor_report(own_store, "30d", now=DEMO_NOW, sample_limit=total - 5)
    assert report.sampled == report.total == total and report.exact
    monkeypatch.setattr(health, "SAMPLE_LIMIT", total - 5)
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        await pilot.press("4")
        await settle(pilot)
        bar = str(app.screen.query_one("#window-bar", Static).render())
        assert f"all {total:,} calls read" in bar and "estimated" not in bar, bar


async def test_f6_export_writes_the_format_its_file_name_says(
    own_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "calls.csv"
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        path_field = app.screen.query_one("#field-path", Input)
        path_field.value = ""
        path_field.focus()
        await pilot.press(*str(target))  # the path edited; the Format field left at jsonl
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await settle(pilot)
    text = target.read_text(encoding="utf-8")
    assert not text.startswith("{")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and "model" in rows[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield
    keyring.set_keyring(previous)


async def _notices(path: Path) -> list[str]:
    store = open_db(path)
    try:
        app = LLMBenchApp(store, Settings())
        async with app.run_test(size=SIZE) as pilot:
            # The notice's worker starts once the first pane's data is on screen.
            await settle(pilot)
            await app.workers.wait_for_complete()
            await pilot.pause()
            return [str(note.message) for note in app._notifications]
    finally:
        store.close()


async def test_the_key_storage_notice_is_shown_once_per_database(
    no_keyring: None, tmp_path: Path
) -> None:
    def told(messages: list[str]) -> bool:
        return any("Secure key storage is unavailable" in m for m in messages)

    first = tmp_path / "one.db"
    assert told(await _notices(first))
    assert not told(await _notices(first))  # the second start: not again
    assert not told(await _notices(first))
    assert told(await _notices(tmp_path / "two.db"))  # another database: once there too
    shutil.copy(first, tmp_path / "copy.db")
    assert not told(await _notices(tmp_path / "copy.db"))  # it travels with the file
