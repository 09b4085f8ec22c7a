"""F5 → Savings → o on the exact cache: it needs no run (enter says so), p ships it as the
prompt's cache policy (m021), and the shipped list tracks it realised against projected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import Static

from llmbench.store.cache_policies import policy_for
from llmbench.store.db import open_db
from llmbench.store.optimizations import shipped
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import money
from llmbench.tui.screens.costs_optimize import OptimizeScreen
from tests.support.optimize_traffic import SETTINGS, add_prompt, triage_calls
from tests.support.traffic import write_calls
from tests.tui.conftest import SIZE, open_pane, settle

NOW = datetime(2025, 6, 30, tzinfo=UTC)


async def test_p_ships_the_exact_cache_as_the_prompts_policy(tmp_path: Path) -> None:
    store = open_db(tmp_path / "cache.db")
    try:
        version = add_prompt(store)
        write_calls(store, triage_calls(version, 40, repeats=10))
        app = LLMBenchApp(store, SETTINGS, db_label="cache.db", clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f5")
            await pilot.press("s")
            await settle(pilot)
            await pilot.press("o")
            # The model's rewrite joins the list after it: the gateway's first call loads litellm.
            await settle(pilot, timeout=60)
            screen = app.screen
            assert isinstance(screen, OptimizeScreen)
            assert list(screen.rows)[-1] == "triage:exact_cache"
            await pilot.press(*["down"] * (len(screen.rows) - 1))
            assert screen.selected() == "triage:exact_cache"
            detail = str(screen.query_one("#optimize-detail", Static).render())
            assert "p ships it as the cache policy" in detail
            projected = screen.rows["triage:exact_cache"][1].projected_monthly

            await pilot.press("enter")  # nothing to run: it says so, and creates no run
            await pilot.pause()
            assert "triage:exact_cache" not in screen.tested
            assert store.read().execute("SELECT count(*) FROM runs").fetchone()[0] == 0

            await pilot.press("p")
            await settle(pilot)
            text = str(screen.query_one("#optimize-realised", Static).render())
            assert "triage: exact cache (25% hits) shipped" in text
            assert f"projected {money(projected)}/month, realised – (no call yet)" in text
        db = store.read()
        assert policy_for(db, "triage") == "exact"
        [row] = shipped(db)
        assert (row.kind, row.projected_monthly, row.run_id) == ("exact_cache", projected, None)
    finally:
        store.close()
