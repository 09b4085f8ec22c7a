"""F3's `E` with real keys: a suite file on the built-in models runs as `llmbench eval` runs it
(the same run kind, plan and cells), streams like a comparison and stays in the runs table; a
suite with a bad line is refused with its file:line and writes nothing. The new actions are
offered by the command palette."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from llmbench.config import GatewaySettings, Settings
from llmbench.gateway.client import shutdown_sync
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.compare.pane import CompareScreen
from llmbench.tui.screens.compare.run import RunScreen
from llmbench.tui.screens.help import HelpScreen
from llmbench.tui.screens.path_dialog import PathDialog
from llmbench.tui.widgets.table_cursor import highlighted_key
from tests.tui.conftest import SIZE, settle

SUITE = """\
name: echo suite
prompts:
  - name: ticket-reply
    sections:
      task: "Reply to: {{ ticket }}"
models: [llmbench/echo, llmbench/mock]
tests:
  - vars: {ticket: refund please}
    checks: [{type: contains, value: refund}]
  - vars: {ticket: where is my order}
    checks: [{type: icontains, value: zebra}]
"""
BAD_SUITE = """\
name: bad
prompts:
  - name: ticket-reply
    sections: {task: "Reply to: {{ ticket }}"}
models: [llmbench/echo]
tests:
  - vars: {ticket: x}
    checks: [{type: nosuchcheck, value: 1}]
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "suite.db") as opened:
        yield opened
    shutdown_sync()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, Settings(gateway=GatewaySettings(max_retries=0)), db_label="t.db")


def _runs(store: Store) -> list[tuple[int, str, str, str, dict[str, object]]]:
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT id, kind, name, status, config FROM runs").fetchall()
    return [(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        if loop.time() > deadline:
            raise AssertionError(f"timed out; on {pilot.app.screen!r}")
        await pilot.pause(0.05)


async def _submit(pilot: Pilot[None], path: Path) -> PathDialog:
    dialog = pilot.app.screen
    assert isinstance(dialog, PathDialog), dialog
    dialog.query_one("#path-input", Input).value = str(path)
    await pilot.press("enter")
    await _until(pilot, lambda: not dialog.working)
    await pilot.pause()
    return dialog


async def test_e_runs_a_suite_file_as_a_run_that_streams_and_stays_in_the_table(
    store: Store, tmp_path: Path
) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "suite.yaml"
    bad.write_text(BAD_SUITE, encoding="utf-8")
    good.write_text(SUITE, encoding="utf-8")
    app = _app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("E")
        await _until(pilot, lambda: isinstance(app.screen, PathDialog))
        dialog = await _submit(pilot, bad)
        assert app.screen is dialog
        assert len(dialog.problems) == 1
        assert dialog.problems[0].startswith(
            f"{bad}:8: check 'nosuchcheck': this check type is not supported"
        )
        assert _runs(store) == []

        await _submit(pilot, good)
        await _until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await _until(pilot, lambda: screen.board is not None)
        board = screen.board
        assert board is not None and len(board.columns) == 2 and len(board.rows) == 2
        await _until(pilot, lambda: not screen.running and board.progress().finished == 4)
        await pilot.pause(0.2)
        status = str(screen.query_one("#run-status", Static).render())
        assert "4/4 cells" in status and "2/4 passed" in status and "done" in status

        [(run_id, kind, name, run_status, config)] = _runs(store)
        assert (kind, name, run_status, config["source"]) == (
            "eval",
            "echo suite",
            "done",
            str(good),
        )
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await settle(pilot)
        table = app.screen.query_one("#runs-table", DataTable)
        assert highlighted_key(table) == str(run_id)
        assert [str(cell) for cell in table.get_row(str(run_id))[:4]] == [
            "echo suite", "eval", "done", "4",
        ]  # fmt: skip


async def test_the_palette_and_help_offer_the_new_prompt_and_compare_actions(store: Store) -> None:
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f1")
        await _until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "compare_eval_suite" in {item.binding_id for item in app.screen.keys}
    assert {
        "Prompts: Guard policy", "Prompts: Import files", "Prompts: Export files",
        "Compare: Run suite",
    } <= titles  # fmt: skip
