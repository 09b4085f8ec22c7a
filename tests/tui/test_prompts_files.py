"""F2's `X` and `I` with real keys on a private copy of the demo database: the highlighted prompt
(or every prompt) exported as files, and prompt files imported all or nothing, a refusal
listing each problem with its file:line in the dialog and writing nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static
from textual.worker import WorkerCancelled

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.help import HelpScreen
from llmbench.tui.screens.path_dialog import PathDialog
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.screens.prompts.prompt_files import EVERY_PROMPT
from llmbench.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _prompt_names(store: Store) -> list[str]:
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM prompts ORDER BY name")]


async def _until(pilot: Pilot[None], screen_type: type, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot, timeout=timeout_s)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


async def _submit(pilot: Pilot[None], path: Path, choice: str | None = None) -> PathDialog:
    """Type the path into the open dialog (and pick `choice`), press enter, wait for the work."""
    dialog = pilot.app.screen
    assert isinstance(dialog, PathDialog), dialog
    dialog.query_one("#path-input", Input).value = str(path)
    if choice is not None:
        dialog.query_one("#path-choice", Select).value = choice
    await pilot.press("enter")
    for _ in range(3):  # a pane read replaced by a newer one ends cancelled: wait again
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()
    return dialog


def _notices(app: LLMBenchApp) -> list[str]:
    return [str(notice.message) for notice in app._notifications]


async def test_x_exports_the_highlighted_prompt_or_every_prompt(
    own_store: Store, tmp_path: Path
) -> None:
    names = _prompt_names(own_store)
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, PromptsScreen) and pane.prompt_history is not None
        highlighted = pane.prompt_history.prompt.name
        await pilot.press("X")
        await _until(pilot, PathDialog)
        await _submit(pilot, tmp_path / "one")
        await _until(pilot, PromptsScreen)
        assert [path.stem for path in (tmp_path / "one").iterdir()] == [highlighted]
        assert "version: 1" in (tmp_path / "one" / f"{highlighted}.yaml").read_text()
        assert f"1 prompt exported to {tmp_path / 'one'}" in _notices(app)

        await pilot.press("X")
        await _until(pilot, PathDialog)
        await _submit(pilot, tmp_path / "all", EVERY_PROMPT)
        await _until(pilot, PromptsScreen)
        assert sorted(path.stem for path in (tmp_path / "all").iterdir()) == names
        assert f"{len(names)} prompts exported to {tmp_path / 'all'}" in _notices(app)


async def test_i_imports_all_or_nothing_with_each_problem_at_its_line(
    own_store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "new-greeter.yaml").write_text("system: Be terse.\nprompt: 'Say hello to $input'\n")
    (folder / "broken.yaml").write_text("prompt: [unclosed\n")
    before = _prompt_names(own_store)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("I")
        await _until(pilot, PathDialog)
        dialog = await _submit(pilot, folder)
        assert app.screen is dialog  # refused: the dialog stays with the reasons
        status = str(dialog.query_one("#path-status", Static).render())
        assert status == "Import refused, nothing was written (1 problem):"
        assert dialog.problems == [
            f"{folder / 'broken.yaml'}:2: invalid YAML: while parsing a flow sequence"
            " (line 1): expected ',' or ']', but got '<stream end>'"
        ]
        assert dialog.query_one("#path-problems").region.bottom <= 24
        assert _prompt_names(own_store) == before  # the good file was not written either

        (folder / "broken.yaml").unlink()
        await _submit(pilot, folder)
        await _until(pilot, PromptsScreen)
        assert _prompt_names(own_store) == sorted([*before, "new-greeter"])
        notice = next(text for text in _notices(app) if "read" in text)
        assert notice.splitlines() == [
            "1 file read: 1 created, 0 updated, 0 unchanged",
            "1 version added, 0 already saved, 0 labels moved, 0 notes added",
        ]
        table = app.screen.query_one("#prompts-table", VirtualTable)
        assert "new-greeter" in [row.cells[0] for row in table.rows]


async def test_an_empty_path_and_a_missing_folder_are_told_in_the_dialog(
    own_store: Store, tmp_path: Path
) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("I")
        await _until(pilot, PathDialog)
        dialog = app.screen
        assert isinstance(dialog, PathDialog)
        await pilot.press("enter")
        assert str(dialog.query_one("#path-status", Static).render()) == "Type a path."
        await _submit(pilot, tmp_path / "nowhere")
        assert dialog.problems == [f"{tmp_path / 'nowhere'}:1: no such file or folder"]
        await pilot.press("escape")
        await _until(pilot, PromptsScreen)


async def test_help_lists_the_guard_and_prompt_file_keys(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await _until(pilot, HelpScreen)
        ids = {item.binding_id for item in app.screen.keys}
        assert {"prompt_guard", "prompts_import", "prompts_export"} <= ids
