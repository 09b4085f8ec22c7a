"""F6's export runs in a worker: the status line counts what is written, and escape stops it
with no file (and no partial file) left behind."""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from llmbench.services.audit import browser as audit_log
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.dialogs import FormDialog
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


def _status(app: LLMBenchApp) -> str:
    return str(app.screen.query_one("#audit-status", Static).render())


async def _start_export(pilot: Any, target: Path) -> None:
    await pilot.press("x")
    for _ in range(200):
        if isinstance(pilot.app.screen, FormDialog):
            break
        await pilot.pause(0.02)
    pilot.app.screen.query_one("#field-path", Input).value = str(target)
    pilot.app.screen.query_one("#field-format").value = "csv"
    await pilot.press("ctrl+s")


async def test_escape_stops_an_export_and_leaves_no_file(
    own_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Report every 500 calls, and hold the export at its first report until the worker is
    # cancelled: the real export then stops exactly as a long one would.
    monkeypatch.setattr(audit_log, "PROGRESS_EVERY", 500)
    real_export = audit_log.export_to_file
    reported: list[int] = []

    def held_export(*args: Any, progress: Any = None, **kwargs: Any) -> int:
        def held(done: int) -> None:
            reported.append(done)
            worker = get_current_worker()
            deadline = time.monotonic() + 10
            while not worker.is_cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
            progress(done)

        return real_export(*args, progress=held, **kwargs)

    monkeypatch.setattr(audit_log, "export_to_file", held_export)
    target = tmp_path / "everything.csv"
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await _start_export(pilot, target)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        for _ in range(500):
            if reported:
                break
            await pilot.pause(0.01)
        assert screen.exporting is not None
        assert "exporting" in _status(app) and "esc cancels" in _status(app)
        await pilot.press("escape")
        # The worker is cancelled at once; its thread then stops at its next report and says so.
        deadline = time.monotonic() + 10
        while screen.exporting is not None and time.monotonic() < deadline:
            await pilot.pause(0.01)
        await settle(pilot)
        assert screen.exporting is None
        assert "exporting" not in _status(app)
        assert any("cancelled" in str(n.message) for n in app._notifications)
    assert reported == [500]
    assert not target.exists()
    assert not any(path.name.endswith(".partial") for path in tmp_path.iterdir())


async def test_an_export_counts_what_it_writes(
    own_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_log, "PROGRESS_EVERY", 1000)
    target = tmp_path / "everything.csv"
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    seen: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        real_progress = screen._export_progress

        def noting(done: int) -> None:
            real_progress(done)
            seen.append(_status(app))

        monkeypatch.setattr(screen, "_export_progress", noting)
        await _start_export(pilot, target)
        await app.workers.wait_for_complete()
        await settle(pilot)
        total = own_store.read().execute("SELECT count(*) FROM calls").fetchone()[0]
        assert any(f"exporting 1,000 of {total:,} (esc cancels)" in line for line in seen), seen
        assert screen.exporting is None
    with target.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == total
