"""The shell around the panes: F1 help, the command palette, the keymap, themes, an empty file,
and a start path free of litellm."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from textual.message import Message
from textual.notifications import Notify
from textual.widgets import DataTable, Static

from llmbench.config import Settings
from llmbench.store.db import open_db
from llmbench.tui.app import PANES, LLMBenchApp
from llmbench.tui.screens.help import HelpScreen
from tests.tui.conftest import SIZE, demo_settings, open_pane, settle


def _help_rows(app: LLMBenchApp) -> list[list[str]]:
    table = app.screen.query_one("#help-keys", DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_f1_lists_the_keys_of_the_current_pane_and_escape_closes_it(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Costs" in str(app.screen.query_one("#help-title", Static).render())
        rows = _help_rows(app)
        by_id = {row[2]: row for row in rows}
        assert by_id["refresh"] == ["r", "Refresh", "refresh", "pane"]
        assert by_id["show_costs"][:2] == ["f5", "Costs"]
        assert {f"show_{pane.mode}" for pane in PANES} | {"help", "quit"} <= set(by_id)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.current_mode == "costs"


async def test_the_command_palette_opens_a_pane(make_app: Callable[..., LLMBenchApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Costs")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "costs"
        assert app.screen.query_one("#costs-table", DataTable).row_count > 0


async def test_the_keymap_in_settings_remaps_a_pane_key(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    settings = Settings(general=demo_settings().general, keymap={"show_costs": "f9"})
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        assert app.current_mode == "prompts"  # f5 no longer opens Costs
        await open_pane(pilot, "f9")
        assert app.current_mode == "costs"
        await pilot.press("f1")
        await pilot.pause()
        by_id = {row[2]: row for row in _help_rows(app)}
        assert by_id["show_costs"][0] == "f9"


async def test_the_configured_theme_is_applied(make_app: Callable[..., LLMBenchApp]) -> None:
    app = make_app(demo_settings(theme="nord"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "nord"


async def test_an_unknown_theme_falls_back_with_a_warning(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    notes: list[str] = []

    def keep_notes(message: Message) -> None:
        if isinstance(message, Notify):
            notes.append(message.notification.message)

    app = make_app(demo_settings(theme="no-such-theme"))
    async with app.run_test(size=SIZE, message_hook=keep_notes) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        assert any("no-such-theme" in note for note in notes)


async def test_an_empty_database_shows_a_friendly_state_in_every_pane(tmp_path: Path) -> None:
    store = open_db(tmp_path / "empty.db")
    try:
        app = LLMBenchApp(store, demo_settings())
        async with app.run_test(size=SIZE) as pilot:
            for pane in PANES:
                if pane.mode == "models":
                    continue  # never empty: it lists the built-in models (test_models_pane)
                await open_pane(pilot, pane.key)
                assert app.current_mode == pane.mode
                assert app.screen.has_class("-empty")
                empty = app.screen.query_one("#pane-empty", Static)
                assert empty.display
                assert "llmbench demo" in str(empty.render())
    finally:
        store.close()


async def test_ctrl_q_quits(make_app: Callable[..., LLMBenchApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


def test_the_tui_start_path_does_not_import_litellm() -> None:
    code = (
        "import sys, llmbench.tui.app, llmbench.services.panes\n"
        "from llmbench.tui.app import PANES\n"
        "import importlib\n"
        "for pane in PANES: importlib.import_module('llmbench.tui.screens.' + pane.module)\n"
        "print('litellm' in sys.modules, 'llmbench.gateway' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


async def test_the_palette_runs_a_pane_action_from_another_pane(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "prompts"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Monitor: Verify")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "monitor"
        integrity = str(app.screen.query_one("#integrity", Static).render())
        assert "not checked" not in integrity
        assert "verified" in integrity.lower() or "intact" in integrity.lower(), integrity
