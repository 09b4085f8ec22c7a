"""Nothing typed is lost (issue 17, "Work lost"): the editor's draft, a dialog's fields and a
grading note are kept in the database while they are typed and come back on reopening;
ctrl+q asks while work is unsaved; keys typed in a burst land in the field tab moved to."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Static

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.dialogs import FormDialog, QuitDialog
from llmbench.tui.screens.grade.session import GradeSessionScreen
from llmbench.tui.screens.prompts.editor import EditorScreen
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.widgets.write_banner import WriteBanner
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, demo_settings, settle
from tests.tui.test_grade_pane import _open_queue


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _sql(store: Store, query: str, *params: object) -> list[tuple]:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return connection.execute(query, params).fetchall()
    finally:
        connection.close()


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; on {pilot.app.screen!r}")
        await pilot.pause(0.02)


def _keys(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


async def _burst(pilot: Pilot[None], keys: list[str]) -> None:
    """Every key queued to the app before it handles the first, as the terminal driver's input
    thread does with the bytes of one read (a paste, a fast typist, tmux send-keys). Pilot's
    `press` waits for the app to go idle after each key, which hides the bug."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, " " if key == "space" else (key if len(key) == 1 else None))
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()


async def test_keys_typed_in_a_burst_after_tab_land_in_the_next_field(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.pause()
        dialog = app.screen
        # One burst, as a terminal delivers a paste or a fast typist's line: no pause anywhere.
        await _burst(
            pilot, [*_keys("alpha-one"), "tab", *_keys("Describe it"), "tab", *_keys("tag1, tag2")]
        )
        await pilot.pause()
        fields = {i.id: i.value for i in dialog.query(Input)}
        assert fields == {
            "field-name": "alpha-one",
            "field-description": "Describe it",
            "field-tags": "tag1, tag2",
        }
        await pilot.press("enter")
        await _until(pilot, lambda: not isinstance(app.screen, (FormDialog, PromptsScreen)))
        await settle(pilot)
    rows = _sql(own_store, "SELECT name, description, tags FROM prompts WHERE name = 'alpha-one'")
    assert rows == [("alpha-one", "Describe it", '["tag1", "tag2"]')]


def _editor_draft(store: Store, prompt_id: int) -> str | None:
    rows = _sql(store, "SELECT body FROM drafts WHERE key = ?", f"editor:{prompt_id}")
    return rows[0][0] if rows else None


async def _edit(pilot: Pilot[None]) -> EditorScreen:
    await pilot.press("e")
    await _until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen


async def test_the_editor_keeps_its_draft_while_typing_and_ctrl_q_asks(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = await _edit(pilot)
        prompt_id, task_before = editor.prompt_id, editor.text("task")
        await pilot.press(*_keys(" UNSAVED WORK 12345"))
        # In the file while typing pauses: no save, no quit needed.
        await _until(
            pilot, lambda: "UNSAVED WORK 12345" in (_editor_draft(own_store, prompt_id) or "")
        )
        await pilot.press(*_keys(" and more"))
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: isinstance(app.screen, QuitDialog))
        asked = str(app.screen.query_one("#quit-work", Static).render())
        assert f"draft of {editor.prompt_name}" in asked
        await pilot.press("n")  # stay: nothing happens
        await _until(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: isinstance(app.screen, QuitDialog))
        await pilot.press("y")  # quit, keeping the draft
        await _until(pilot, lambda: app.return_code is not None)
    # Typed right before ctrl+q, within the typing pause: on disk all the same.
    assert "UNSAVED WORK 12345 and more" in (_editor_draft(own_store, prompt_id) or "")

    reopened = _app(own_store)
    async with reopened.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = await _edit(pilot)
        assert editor.prompt_id == prompt_id
        assert editor.text("task") == " UNSAVED WORK 12345 and more" + task_before
        assert editor.dirty and "kept draft" in editor.title
        # Saving makes it a version and deletes the draft.
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(reopened.screen, FormDialog))
        await pilot.press(*_keys("kept work"), "enter")
        await _until(pilot, lambda: isinstance(reopened.screen, PromptsScreen))
        await settle(pilot)
        own_store.write(lambda db: None)  # behind the draft's deletion in the writer's queue
    assert _editor_draft(own_store, prompt_id) is None
    (task,) = _sql(
        own_store,
        "SELECT json_extract(sections, '$.task') FROM prompt_versions WHERE prompt_id = ?"
        " ORDER BY version DESC LIMIT 1",
        prompt_id,
    )[0]
    assert task == " UNSAVED WORK 12345 and more" + task_before


def _grade_drafts(store: Store) -> list[tuple[str, dict]]:
    rows = _sql(store, "SELECT key, body FROM drafts WHERE kind = 'grade' ORDER BY key")
    return [(key, json.loads(body)) for key, body in rows]


async def test_a_grading_note_is_kept_at_once_and_joins_its_grade(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "g")
        item = screen.session.current.key
        await pilot.press("4")  # one level of three: the grade is far from complete
        await pilot.press("N")
        await _until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press(*_keys("odd refund wording"), "enter")
        await _until(pilot, lambda: isinstance(app.screen, GradeSessionScreen))
        own_store.write(lambda db: None)  # the writer has run what was queued by now
        # In the file at once (no typing pause, no quit): the note with the level given so far.
        [(key, body)] = _grade_drafts(own_store)
        assert key.endswith(f":normal:{REVIEWER}:{item}")
        assert body == {"scores": {"relevance": 4}, "verdict": None, "note": "odd refund wording"}
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: isinstance(app.screen, QuitDialog))
        asked = str(app.screen.query_one("#quit-work", Static).render())
        assert "1 grade in progress (1 with a note)" in asked
        await pilot.press("y")
        await _until(pilot, lambda: app.return_code is not None)

    reopened = _app(own_store)
    async with reopened.run_test(size=SIZE) as pilot:
        screen = await _open_queue(pilot, "g")
        assert screen.session.current.key == item  # where the reviewer stopped
        draft = screen.session.draft()
        assert (draft.scores, draft.note) == ({"relevance": 4}, "odd refund wording")
        assert "odd refund wording" in str(screen.query_one("#grade-item-text", Static).render())
        await pilot.press("3", "5", "y")  # the rest of the grade: written with its note
        await pilot.pause()
        own_store.write(lambda db: None)
    assert _grade_drafts(own_store) == []  # deleted by the grade's own write
    kind, item_id = item.split(":")
    rows = _sql(
        own_store,
        f"SELECT scores, verdict, note FROM grades WHERE {kind}_id = ? AND reviewer = ?"
        " ORDER BY id DESC LIMIT 1",
        int(item_id),
        REVIEWER,
    )
    assert rows == [('{"relevance": 4, "correctness": 3, "tone": 5}', "pass", "odd refund wording")]


@pytest.fixture
def read_only_file() -> Iterator[Callable[[Path], None]]:
    """Make a database file unwritable for this process: chmod 0444, and `chattr +i` when
    running as root, whom permissions do not stop. Undone after the test."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        path.chmod(0o444)
        undo.append(lambda: path.chmod(mode))
        if os.access(path, os.W_OK):
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot make {path.name} read-only here: {done.stderr!r}")
            undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=True))

    yield make
    for step in reversed(undo):
        step()


async def test_a_read_only_database_says_so_at_open_and_counts_no_refused_grade(
    pristine_copy: Path, read_only_file: Callable[[Path], None]
) -> None:
    read_only_file(pristine_copy)
    store = open_db(pristine_copy, create=False)
    try:
        assert store.read_only
        app = _app(store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # Said on the first pane, before anything was tried, and on every pane after.
            banner = str(app.screen.query_one(WriteBanner).render())
            assert "opened read-only" in banner and str(pristine_copy) in banner
            screen = await _open_queue(pilot, "g")
            assert screen.query(WriteBanner)
            await pilot.press("4", "3", "5", "y", "2", "2", "2", "n")
            await pilot.pause(0.2)
            assert len(screen.write_errors) >= 2
            await pilot.pause()
            progress = str(screen.query_one("#grade-progress", Static).render())
            assert progress.startswith("0 / "), progress  # two grades refused: none counted
            await pilot.press("k")
            rubric = str(screen.query_one("#grade-rubric-text", Static).render())
            assert "not saved" in rubric
    finally:
        store.close()
