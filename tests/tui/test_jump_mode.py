"""Reach (issue 17, "Layout and reach"): ctrl+o labels everything a screen can focus and a
label's key goes there; F-keys switch panes even from inside the editor's text, which keeps
its draft; alt+1…8 and alt+up/down move between the editor's sections while typing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent, TextArea

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.jumper import LABEL_WIDTH, JumpTarget
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.help import HelpScreen
from llmbench.tui.screens.prompts.editor import EditorScreen
from llmbench.tui.widgets.jump_overlay import JumpOverlay
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, settle

SMALL = (80, 24)


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; on {pilot.app.screen!r}")
        await pilot.pause(0.02)


async def _jump_mode(pilot: Pilot[None]) -> JumpOverlay:
    await pilot.press("ctrl+o")
    await pilot.pause()
    overlay = pilot.app.screen
    assert isinstance(overlay, JumpOverlay)
    return overlay


def _target(overlay: JumpOverlay, widget_id: str) -> JumpTarget:
    found = [target for target in overlay.targets if target.widget.id == widget_id]
    assert found, f"no label on #{widget_id}: {[t.widget.id for t in overlay.targets]}"
    return found[0]


def _labels_drawn(overlay: JumpOverlay) -> dict[str, tuple[int, int]]:
    """What the overlay shows: each label's text at its place on the screen."""
    return {
        str(label.render()): (label.region.x, label.region.y)
        for label in overlay.query(".jump-label").results(Static)
    }


@pytest.mark.parametrize(
    ("pane_key", "widget_id", "size"),
    [
        # Every pane at 80×24, where labels are hardest to place, and one at the usual size.
        ("f2", "versions-table", SMALL),
        ("f3", "matrix-table", SMALL),
        ("f6", "audit-query", SMALL),
        ("f8", "model-prompts", SMALL),
        ("f2", "versions-table", SIZE),
    ],
)
async def test_a_label_key_focuses_its_widget_on_every_pane(
    make_app: Callable[..., LLMBenchApp], pane_key: str, widget_id: str, size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press(pane_key)
        await settle(pilot)
        assert app.focused is None or app.focused.id != widget_id
        overlay = await _jump_mode(pilot)
        target = _target(overlay, widget_id)
        drawn = _labels_drawn(overlay)
        # Every label is drawn where it says, inside the screen, one per key.
        assert len(drawn) == len(overlay.targets) >= 2
        for each in overlay.targets:
            assert drawn[each.key] == tuple(each.offset)
            assert 0 <= each.offset.x <= size[0] - LABEL_WIDTH and 0 <= each.offset.y < size[1]
        await pilot.press(target.key)
        await pilot.pause()
        assert not isinstance(app.screen, JumpOverlay)
        assert app.focused is not None and app.focused.id == widget_id


async def test_labels_are_stable_and_escape_changes_nothing(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f6")
        await settle(pilot)
        focused = app.focused
        first = [(t.key, t.widget.id, t.offset) for t in (await _jump_mode(pilot)).targets]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not None and isinstance(app.screen, AuditScreen)
        assert app.focused is focused
        again = [(t.key, t.widget.id, t.offset) for t in (await _jump_mode(pilot)).targets]
        assert again == first and first[0][0] == "a"
        await pilot.press("ctrl+o")  # the same key leaves too
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


async def _edit(pilot: Pilot[None]) -> EditorScreen:
    await settle(pilot)
    await pilot.press("e")
    await _until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen))
    await pilot.pause()
    editor = pilot.app.screen
    assert isinstance(editor, EditorScreen)
    return editor


def _section(editor: EditorScreen) -> str:
    return str(editor.query_one("#editor-tabs", TabbedContent).active).removeprefix("tab-")


def _kept_draft(store: Store, prompt_id: int) -> str:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT body FROM drafts WHERE key = ?", (f"editor:{prompt_id}",)
        ).fetchall()
    finally:
        connection.close()
    return rows[0][0] if rows else ""


async def test_f6_from_inside_the_editor_switches_to_audit_and_the_draft_survives(
    own_store: Store,
) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        editor = await _edit(pilot)
        text = editor.query_one("#text-task", TextArea)
        assert app.focused is text
        await pilot.press(*"KEPT")
        before = text.text
        await pilot.press("f6")  # TextArea's own F6 selects the line
        await settle(pilot)
        assert app.current_mode == "audit" and isinstance(app.screen, AuditScreen)
        assert text.selected_text == ""
        await pilot.press("f7")
        await settle(pilot)
        assert app.current_mode == "monitor"
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen is editor and text.text == before and "KEPT" in before
        await _until(pilot, lambda: "KEPT" in _kept_draft(own_store, editor.prompt_id))


async def test_jump_mode_reaches_an_editor_section_while_typing(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SMALL) as pilot:
        editor = await _edit(pilot)
        overlay = await _jump_mode(pilot)
        examples = next(t for t in overlay.targets if t.widget.id.endswith("tab-examples"))
        await pilot.press(examples.key)
        await _until(pilot, lambda: app.focused is editor.query_one("#text-examples"))
        assert _section(editor) == "examples"


async def test_section_keys_move_between_sections_while_typing(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        editor = await _edit(pilot)
        assert _section(editor) == "task"
        await pilot.press(*"ab")
        await pilot.press("alt+1")
        assert _section(editor) == "role" and app.focused is editor.query_one("#text-role")
        await pilot.press(*"cd")
        await pilot.press("alt+down")
        assert _section(editor) == "task"
        await pilot.press("alt+down", "alt+down")
        assert _section(editor) == "examples"
        await pilot.press("alt+up")
        assert _section(editor) == "format"
        await pilot.press("alt+8")
        assert _section(editor) == "values" and app.focused is editor.query_one("#text-values")
        await pilot.press("alt+7")
        assert _section(editor) == "settings"
        # What was typed went into the text, not into a key's action.
        assert editor.text("task").startswith("ab") and editor.text("role").startswith("cd")


async def test_f1_in_the_editor_lists_jump_section_and_pane_keys(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await _edit(pilot)
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        ids = {item.binding_id: item for item in help_screen.keys}
        assert ids["jump"].scope == "everywhere" and ids["jump"].description == "Jump"
        assert {f"editor_section_{n}" for n in range(1, 9)} <= set(ids)
        assert ids["show_audit"].scope == "everywhere"
        hint = str(help_screen.query_one("#help-hint", Static).render())
        assert "F2" in hint and "ctrl+o" in hint and "alt+1" in hint
