"""Keys typed into a dialog before its kept draft has been read back (a slow disk, a busy
machine: the read runs in a worker) are kept too: the draft read late must not leave what was
typed meanwhile outside the draft, or ctrl+q quits without asking and loses it."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from llmbench.services.drafts import DraftKeeper, StoredDraft
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.import_dialog import ImportDialog
from llmbench.tui.screens.dialogs import FormDialog, QuitDialog
from llmbench.tui.screens.prompts.forms import NEW_PROMPT_DRAFT
from tests.tui.conftest import DEMO_NOW, demo_settings, open_pane, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


@pytest.fixture
def typed_first(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The kept draft's read answers only once the test has typed (set the event)."""
    typed = threading.Event()
    read = DraftKeeper.read

    def read_after_typing(self: DraftKeeper, key: str) -> StoredDraft | None:
        typed.wait(10)
        return read(self, key)

    monkeypatch.setattr(DraftKeeper, "read", read_after_typing)
    return typed


async def _until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen; on {pilot.app.screen!r}")
        await pilot.pause(0.02)


def _draft(store: Store, key: str) -> dict[str, str] | None:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT body FROM drafts WHERE key = ?", (key,)).fetchone()
    finally:
        connection.close()
    return json.loads(row[0]) if row else None


async def _quit_keeping(pilot: Pilot[None]) -> None:
    app = pilot.app
    await pilot.press("ctrl+q")
    await _until(pilot, lambda: isinstance(app.screen, QuitDialog), "the quit question")
    await pilot.press("y")
    await _until(pilot, lambda: app.return_code is not None, "quitting")


async def test_the_import_dialogs_early_keys_are_kept(
    own_store: Store, typed_first: threading.Event, tmp_path: Path
) -> None:
    source = str(tmp_path / "calls.jsonl")
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("i")
        await _until(pilot, lambda: isinstance(app.screen, ImportDialog), "the dialog")
        dialog = app.screen
        await pilot.press(*source)
        typed_first.set()
        await _until(pilot, lambda: not dialog._restoring, "the draft's read")
        assert dialog.query_one("#import-path", Input).value == source
        await _quit_keeping(pilot)
    assert _draft(own_store, "dialog:import") == {"kind": "jsonl", "path": source, "map": ""}


async def test_a_forms_early_keys_are_kept(own_store: Store, typed_first: threading.Event) -> None:
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")  # F2: a new prompt
        await _until(pilot, lambda: isinstance(app.screen, FormDialog), "the form")
        form = app.screen
        await pilot.press(*"early-bird")
        typed_first.set()
        await _until(pilot, lambda: not form._restoring, "the draft's read")
        await _quit_keeping(pilot)
    kept = _draft(own_store, NEW_PROMPT_DRAFT)
    assert kept is not None and "early-bird" in kept.values()
