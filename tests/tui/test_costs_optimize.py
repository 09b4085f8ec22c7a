"""F5 → Savings → o: the optimizer screen lists the candidates of a prompt with a month of
calls; enter tests the highlighted one as a run through the gateway and shows its report (the
quality delta and the projected saving); p promotes it, and the label move is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import DataTable, Static

from llmbench.store.db import open_db
from llmbench.store.prompts.library import label_moves
from llmbench.store.prompts.versions import get_prompt, labels
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import money
from llmbench.tui.screens.costs_optimize import OptimizeScreen
from llmbench.tui.screens.help import HelpScreen
from tests.support.optimize_traffic import SETTINGS, add_dataset, add_prompt, triage_calls
from tests.support.traffic import write_calls
from tests.tui.conftest import SIZE, open_pane, settle

NOW = datetime(2025, 6, 30, tzinfo=UTC)


def _help_ids(app: LLMBenchApp) -> dict[str, list[str]]:
    assert isinstance(app.screen, HelpScreen)
    table = app.screen.query_one("#help-keys", DataTable)
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {row[2]: row[:2] for row in rows}


async def test_pick_test_and_promote_a_candidate(tmp_path: Path) -> None:
    store = open_db(tmp_path / "optimize.db")
    try:
        version = add_prompt(store)
        write_calls(store, triage_calls(version, 40))
        add_dataset(store, "triage")
        app = LLMBenchApp(store, SETTINGS, db_label="optimize.db", clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await open_pane(pilot, "f5")
            await pilot.press("s")
            await settle(pilot)
            await pilot.press("f1")  # the key is listed where it works: the savings view
            await pilot.pause()
            assert _help_ids(app)["costs_optimize"] == ["o", "Optimize"]
            await pilot.press("escape")
            await pilot.press("o")
            # The model's rewrite joins the list after it: the gateway's first call loads litellm.
            await settle(pilot, timeout=60)
            screen = app.screen
            assert isinstance(screen, OptimizeScreen)
            assert list(screen.rows) == [
                "triage:max_tokens", "triage:concise", "triage:compression", "triage:caching",
            ]  # fmt: skip
            await pilot.press("down", "down")
            assert screen.selected() == "triage:compression"
            detail = screen.query_one("#optimize-detail", Static)
            assert "prompt tokens saved per call" in str(detail.render())

            await pilot.press("enter")
            await settle(pilot, timeout=60)
            tested = screen.tested["triage:compression"]
            text = str(detail.render())
            assert f"run {tested.run_id}" in text
            assert "Quality delta +0.0 pts" in text
            assert f"Projected saving {money(tested.projected_monthly)}/month" in text
            assert "Quality holds: p promotes it" in text

            await pilot.press("p")
            await settle(pilot)
            shipped = str(screen.query_one("#optimize-realised", Static).render())
            assert f"projected {money(tested.projected_monthly)}/month" in shipped
            assert "realised – (no call yet)" in shipped
        db = store.read()
        prompt = get_prompt(db, "triage")
        assert prompt is not None
        assert labels(db, prompt.id)["production"] == tested.version_id
        move = label_moves(db, prompt.id)[0]
        assert (move.from_version, move.to_version, move.label) == (1, 2, "production")
        assert move.moved_by == (app.reviewer or "llmbench")
    finally:
        store.close()
