"""F5 → Savings → o on the demo's optimizer prompt: the built-in mock's rewrite joins the
candidates once it answers, enter tests it as a run like the rules' compression, and its report
says quality held."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import Static

from llmbench.demo.optimize_demo import NAME, add_optimize_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.chain_records import database_id
from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.costs_optimize import OptimizeScreen
from tests.support.optimize_traffic import SETTINGS
from tests.tui.conftest import SIZE, open_pane, settle

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


async def test_the_rewrite_is_listed_and_tested_like_compression(tmp_path: Path) -> None:
    store = open_db(tmp_path / "rewrite.db")
    try:
        key = load_chain_key(database_id(store.read()))
        store.write(lambda db: add_optimize_demo(db, key, "2025-06-01T12:00:00.000Z", count=60))
        app = LLMBenchApp(store, SETTINGS, db_label="rewrite.db", clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f5")
            await pilot.press("s")
            await settle(pilot)
            await pilot.press("o")
            await settle(pilot, timeout=60)  # the rewrite's gateway call loads litellm
            screen = app.screen
            assert isinstance(screen, OptimizeScreen)
            keys = list(screen.rows)
            assert keys.index(f"{NAME}:rewrite") == keys.index(f"{NAME}:compression") + 1
            await pilot.press(*["down"] * keys.index(f"{NAME}:rewrite"))
            assert screen.selected() == f"{NAME}:rewrite"
            detail = screen.query_one("#optimize-detail", Static)
            assert "rewritten by llmbench/mock: role, format" in str(detail.render())

            await pilot.press("enter")
            await settle(pilot, timeout=60)
            tested = screen.tested[f"{NAME}:rewrite"]
            assert tested.holds
            text = str(detail.render())
            assert f"run {tested.run_id}" in text and "Quality holds: p promotes it" in text
    finally:
        store.close()
