"""Scenario 11 — the TUI says, for as long as it lasts, that the database refuses writes.

What it proves: opened on a read-only file, the workbench shows a banner across the top of
every pane ("Changes are not being saved: … is read-only …; then restart llmbench …") before
the user changes anything, and it stays there (no toast that times out) through pane
switches: SQLite keeps a file opened read-only so for the connection's life. A write refused
later (the disk fills up) shows the banner with that reason, on every pane, and the next write
that lands clears it.

Runtime: ~7 s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from llmbench.config import Settings
from llmbench.services.prompts.library import create_prompt
from llmbench.store import db as db_module
from llmbench.store.db import DatabaseFull, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.widgets.write_banner import TITLE, WriteBanner

SIZE = (120, 36)


def _banner(app: LLMBenchApp) -> str | None:
    banners = list(app.screen.query(WriteBanner))
    assert len(banners) <= 1
    return str(banners[0].render()) if banners else None


async def _until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app never got there")


def _database(path: Path) -> Path:
    with open_db(path) as store:
        store.write(lambda db: None)
    return path


async def test_a_read_only_file_shows_a_banner_on_every_pane(
    tmp_path: Path, read_only_file: Callable[[Path], None]
) -> None:
    path = _database(tmp_path / "ro.db")
    read_only_file(path)
    with open_db(path, create=False) as store:
        app = LLMBenchApp(store, Settings())
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: _banner(app) is not None)
            text = _banner(app)
            assert text is not None and text.startswith(f"⚠ {TITLE}: ")
            assert "read-only" in text and "restart llmbench" in text
            for key in ("f5", "f6", "f2"):  # on every pane, long after a toast would be gone
                await pilot.press(key)
                await pilot.pause(0.4)
                assert _banner(app) == text
            assert app.write_problem is not None


async def test_a_write_refused_later_shows_the_banner_and_the_next_write_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _database(tmp_path / "full.db")
    conn = sqlite3.connect(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    apply = db_module._apply_pragmas

    def with_limit(conn: sqlite3.Connection) -> None:
        apply(conn)
        conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(db_module, "_apply_pragmas", with_limit)
    with open_db(path, create=False) as store:
        app = LLMBenchApp(store, Settings())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.5)
            assert _banner(app) is None  # the file takes writes: nothing to say
            worker = app.run_worker(
                lambda: create_prompt(store, "too-big", description="x" * 200_000),
                thread=True,
                exit_on_error=False,
            )
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            assert isinstance(worker.error, DatabaseFull)
            await _until(pilot, lambda: _banner(app) is not None)
            assert "the disk is full" in (_banner(app) or "")
            await pilot.press("f5")
            await pilot.pause(0.3)
            assert "the disk is full" in (_banner(app) or "")
            app.run_worker(lambda: create_prompt(store, "fits"), thread=True, exit_on_error=False)
            await _until(pilot, lambda: _banner(app) is None)
