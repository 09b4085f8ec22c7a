"""F-keys pressed while a dialog is open over a pane (issue 17): a dialog holding nothing typed
closes as escape closes it and the pane switches; a dialog holding typed input stays, with its
draft, and the switch is refused with a notice. No dialog is left behind on a pane's stack."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.dialogs import ConfirmDialog, FormDialog
from llmbench.tui.screens.prompts.forms import NEW_PROMPT_DRAFT
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.widgets.jump_overlay import JumpOverlay
from tests.tui.conftest import DEMO_NOW, demo_settings, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; on {pilot.app.screen!r}")
        await pilot.pause(0.02)


def _dialogs_left(app: LLMBenchApp) -> list[str]:
    return [
        f"{mode}: {type(screen).__name__}"
        for mode, stack in app._screen_stacks.items()
        for screen in stack
        if isinstance(screen, ModalScreen)
    ]


def _draft(store: Store) -> str | None:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT body FROM drafts WHERE key = ?", (NEW_PROMPT_DRAFT,)
        ).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


async def test_f_keys_close_empty_dialogs_and_refuse_over_typed_input(own_store: Store) -> None:
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # A form with nothing typed: F3 closes it (as escape does) and shows Compare.
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press("f3")
        await _until(pilot, lambda: app.current_mode == "compare")
        await settle(pilot)
        assert _dialogs_left(app) == []
        await pilot.press("f2")
        await _until(pilot, lambda: isinstance(app.screen, PromptsScreen))

        # Typed input: F3 is refused, the dialog and what was typed stay, the draft is kept.
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        await pilot.press(*"half-typed")
        await pilot.press("f3")
        await pilot.pause()
        assert app.current_mode == "prompts" and app.screen is dialog
        assert dialog.query_one("#field-name", Input).value == "half-typed"
        notices = [n.message for n in app._notifications]
        assert any('the fields of "New prompt"' in text and "F3" in text for text in notices)
        await _until(pilot, lambda: "half-typed" in (_draft(own_store) or ""))
        # The palette's pane actions are refused the same way.
        app.run_on_pane("compare", "reload")
        await pilot.pause()
        assert app.current_mode == "prompts" and app.screen is dialog
        await pilot.press("escape")  # the user's choice: cancel, which discards the draft
        await _until(pilot, lambda: isinstance(app.screen, PromptsScreen))

        # Read-only dialogs stacked up (jump mode's labels over a question): F4 closes both;
        # the question's caller hears "no", as from escape.
        answers: list[bool | None] = []
        app.push_screen(ConfirmDialog("Delete?", "Really?"), answers.append)
        await pilot.pause()
        await pilot.press("ctrl+o")
        await _until(pilot, lambda: isinstance(app.screen, JumpOverlay))
        await pilot.press("f4")
        await _until(pilot, lambda: app.current_mode == "grade")
        await settle(pilot)
        assert answers == [False]
        assert _dialogs_left(app) == []
