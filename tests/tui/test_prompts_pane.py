"""The Prompts pane's whole workflow with its real keys, on a private copy of the demo database:
create a prompt, write and save versions, diff them, move production back and forth, search."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.compare.report import MigrationReportScreen
from llmbench.tui.screens.compare.run import RunScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, FormDialog
from llmbench.tui.screens.help import HelpScreen
from llmbench.tui.screens.prompts.diff import DiffScreen
from llmbench.tui.screens.prompts.editor import EditorScreen
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, demo_settings, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    """These tests write: each gets its own copy of the demo database as built."""
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _sql(store: Store) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)


def _pane(app: LLMBenchApp) -> PromptsScreen:
    assert isinstance(app.screen, PromptsScreen), app.screen
    return app.screen


def _versions(app: LLMBenchApp) -> list[tuple[str, str]]:
    table = _pane(app).query_one("#versions-table", DataTable)
    return [
        (str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)
    ]


async def _until(pilot: Pilot[None], screen_type: type, timeout_s: float = 30.0) -> None:
    """Until `screen_type` is on top and has settled (generous: CI machines can be loaded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot, timeout=timeout_s)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


async def _type(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def _save(pilot: Pilot[None], message: str) -> None:
    await pilot.press("ctrl+s")
    await _until(pilot, FormDialog)
    await _type(pilot, message)
    await pilot.press("enter")
    await _until(pilot, PromptsScreen)


async def test_create_edit_save_diff_roll_back_and_search(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # n: a new prompt, then its first version in the editor.
        await pilot.press("n")
        await _until(pilot, FormDialog)
        await _type(pilot, "faq-answer")
        await pilot.press("tab")
        await _type(pilot, "Answers product questions")
        await pilot.press("enter")
        await _until(pilot, EditorScreen)
        assert app.focused is not None and app.focused.id == "text-task"
        await _type(pilot, "Answer {{ question }}")
        await _save(pilot, "first draft")
        assert _pane(app).query_one("#prompts-table", VirtualTable).cursor_key is not None
        assert _versions(app) == [("v1", "")]

        # e: edit the role section of v1 and save: v2 appears, its parent v1.
        await pilot.press("e")
        await _until(pilot, EditorScreen)
        await pilot.press("ctrl+pageup")  # task → role
        assert app.focused is not None and app.focused.id == "text-role"
        await _type(pilot, "You are terse.")
        await _save(pilot, "add a role")
        assert [v for v, _ in _versions(app)] == ["v2", "v1"]
        detail = str(_pane(app).query_one("#version-detail-text", Static).render())
        assert "v2" in detail and "from v1" in detail and "You are terse." in detail

        # d: diff v2 against its parent, section by section.
        await pilot.press("d")
        await _until(pilot, DiffScreen)
        diff = str(app.screen.query_one("#diff-text", Static).render())
        assert "v1 → v2" in diff
        assert "ROLE" in diff and "added" in diff and "+ You are terse." in diff
        assert "TASK — unchanged" in diff
        await pilot.press("escape")
        await _until(pilot, PromptsScreen)

        # p: production to v2; then roll back to v1, and forward again, each confirmed.
        await pilot.press("p")
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, PromptsScreen)
        assert _versions(app)[0] == ("v2", "production")
        _pane(app).query_one("#versions-table", DataTable).focus()
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("p")
        await _until(pilot, ConfirmDialog)
        assert "Roll back production" in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press("y")
        await _until(pilot, PromptsScreen)
        assert dict(_versions(app))["v1"] == "production"
        await pilot.press("up", "p")
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, PromptsScreen)
        assert dict(_versions(app))["v2"] == "production"

        # /: search the library; escape clears the search.
        await pilot.press("slash")
        await _type(pilot, "product questions")
        await settle(pilot)
        library = _pane(app).query_one("#prompts-table", VirtualTable)
        assert [row.cells[0] for row in library.rows] == ["faq-answer"]
        await pilot.press("escape")
        await settle(pilot)
        assert library.row_count > 1

    with _sql(own_store) as sql:
        moves = sql.execute(
            "SELECT f.version, t.version, m.moved_by FROM label_moves m"
            " JOIN prompts p ON p.id = m.prompt_id"
            " LEFT JOIN prompt_versions f ON f.id = m.from_version_id"
            " JOIN prompt_versions t ON t.id = m.to_version_id"
            " WHERE p.name = 'faq-answer' AND m.label = 'production' ORDER BY m.id"
        ).fetchall()
        assert moves == [(None, 2, REVIEWER), (2, 1, REVIEWER), (1, 2, REVIEWER)]
        (variables,) = sql.execute(
            "SELECT v.variables FROM prompt_versions v JOIN prompts p ON p.id = v.prompt_id"
            " WHERE p.name = 'faq-answer' AND v.version = 2"
        ).fetchone()
        assert '"kind": "untrusted"' in variables


async def test_an_unchanged_draft_is_refused_and_nothing_is_saved(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = _versions(app)
        await pilot.press("e")
        await _until(pilot, EditorScreen)
        await pilot.press("ctrl+s")
        await _until(pilot, FormDialog)
        await _type(pilot, "no change")
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, EditorScreen)  # still editing: nothing is lost
        await pilot.press("escape")
        await _until(pilot, PromptsScreen)
        assert _versions(app) == before


async def test_a_note_and_a_staging_label(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await _until(pilot, FormDialog)
        await pilot.press("tab", "tab")
        await _type(pilot, "Haiku ignores the sign-off")
        await pilot.press("enter")
        await _until(pilot, PromptsScreen)
        detail = str(_pane(app).query_one("#version-detail-text", Static).render())
        assert "Haiku ignores the sign-off" in detail

        _pane(app).query_one("#versions-table", DataTable).focus()
        await pilot.press("ctrl+end", "l")
        await _until(pilot, FormDialog)
        await pilot.press("enter")  # the label field starts as "staging"
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, PromptsScreen)
        assert "staging" in _versions(app)[-1][1]


async def test_help_lists_the_prompt_keys(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await _until(pilot, HelpScreen)
        ids = {item.binding_id for item in app.screen.keys}
        assert {
            "prompts_search", "prompt_new", "prompt_edit", "prompt_diff", "prompt_mark",
            "prompt_promote", "prompt_label", "prompt_note",
        } <= ids  # fmt: skip


def _slow_greeter(store: Store) -> int:
    """A prompt whose production v1 runs on the built-in mock model at ~3 s a call, so a
    comparison is still running when it is first looked at."""

    def job(db: Any) -> int:
        prompt_id = prompts_repo.create_prompt(db, "slow-greeter")
        version_id = prompts_repo.add_version(
            db, prompt_id, {"task": "Say hello"}, model="llmbench/mock",
            params={"mock_latency_ms": 3000},
        )  # fmt: skip
        prompts_repo.set_label(db, prompt_id, "production", version_id)
        return prompt_id

    return store.write(job)


async def test_ctrl_r_streams_the_draft_against_production_in_compare(own_store: Store) -> None:
    prompt_id = _slow_greeter(own_store)
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await _type(pilot, "slow-greeter")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await _until(pilot, EditorScreen)
        await _type(pilot, "Warmly: ")
        await pilot.press("ctrl+r")
        # F3 at once, the run streaming there, not after it has finished (its model answers
        # after 3 s; the deadline is for a loaded machine).
        deadline = time.monotonic() + 20
        while not isinstance(app.screen, RunScreen) and time.monotonic() < deadline:
            await pilot.pause(0.02)
        run = app.screen
        assert app.current_mode == "compare" and isinstance(run, RunScreen)
        while not run.running and time.monotonic() < deadline:
            await pilot.pause(0.02)
        with _sql(own_store) as sql:
            (status,) = sql.execute("SELECT status FROM runs WHERE id = ?", [run.run_id]).fetchone()
        assert run.running and status == "running"
        assert run.board is not None and run.board.progress().total >= 2
        deadline = time.monotonic() + 60
        while run.running and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert not run.running
        progress = run.board.progress()
        assert progress.finished == progress.total and progress.errors == 0
        # The report measures the draft (candidate) against production (baseline).
        await pilot.press("m")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not getattr(app.screen, "found", None):
            await pilot.pause(0.05)
        report = app.screen
        assert isinstance(report, MigrationReportScreen)
        [comparison] = report.found
        assert comparison.baseline == "slow-greeter@1 × llmbench/mock"
        assert comparison.candidate == "draft × llmbench/mock"
        # F2 goes back to the draft, still open in the editor.
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen) and app.screen.prompt_id == prompt_id

    with _sql(own_store) as sql:
        (run_id, name, status) = sql.execute(
            "SELECT id, name, status FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert (name, status) == ("slow-greeter: draft vs v1", "done")
        sides = sql.execute(
            "SELECT r.version_id IS NULL, count(*), min(r.status) FROM results r"
            " WHERE r.run_id = ? GROUP BY 1 ORDER BY 1",
            [run_id],
        ).fetchall()
        assert [(draft, status) for draft, _, status in sides] == [(0, "ok"), (1, "ok")]
        assert sides[0][1] == sides[1][1]
