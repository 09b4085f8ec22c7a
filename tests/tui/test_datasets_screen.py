"""The datasets screen with its real keys on a fresh database: add a case, edit it, delete it,
keep a case that results point at, make a dataset, import a CSV, and go back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.prompts import versions as prompts
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.datasets import DatasetsScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, FormDialog
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, settle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "cases.db") as opened:

        def job(db) -> None:
            dataset = datasets.create_dataset(db, "tickets", description="support tickets")
            [used] = datasets.add_cases(db, dataset, [datasets.NewCase({"ticket": "in a run"})])
            version = prompts.add_version(db, prompts.create_prompt(db, "p"), {"task": "x"})
            run = runs.create_run(db, "eval", name="r")
            runs.add_results(db, run, [runs.NewResult(version, "m", used, None, "o", "ok")])

        opened.write(job)
        yield opened


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="cases.db", clock=lambda: DEMO_NOW)


def _cases(store: Store) -> list[tuple]:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return connection.execute(
            "SELECT d.name, c.vars, c.expected, c.tags, c.checks FROM cases c"
            " JOIN datasets d ON d.id = c.dataset_id ORDER BY c.id"
        ).fetchall()
    finally:
        connection.close()


async def _until(pilot: Pilot[None], screen_type: type, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot, timeout=timeout_s)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


async def _type(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def _rows(screen: DatasetsScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(table_id, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _shows(
    pilot: Pilot[None],
    screen: DatasetsScreen,
    table_id: str,
    expected: list[list[str]],
    first_column: int = 0,
) -> None:
    """Until the table holds `expected` (from `first_column` on): a selection change re-reads
    the cases in a worker, which may land after the screen first looks settled."""

    def shown() -> list[list[str]]:
        return [row[first_column:] for row in _rows(screen, table_id)]

    deadline = time.monotonic() + 20.0
    while shown() != expected and time.monotonic() < deadline:
        await pilot.pause(0.05)
    assert shown() == expected


async def test_add_edit_delete_and_import_with_the_real_keys(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.screen
        app.push_screen(DatasetsScreen())
        await _until(pilot, DatasetsScreen)
        screen = app.screen
        assert isinstance(screen, DatasetsScreen)
        assert _rows(screen, "#datasets-table") == [["tickets", "1"]]
        assert _rows(screen, "#cases-table")[0][1] == "ticket=in a run"
        keys = {key.binding_id for key in app.keys_of(screen)}
        assert {"datasets_add_case", "datasets_edit_case", "datasets_delete_case", "datasets_new",
                "datasets_delete_dataset", "datasets_import", "datasets_export",
                "datasets_back"} <= keys  # fmt: skip

        # a: a new case, every field typed; a bad check is refused in the dialog first.
        await pilot.press("a")
        await _until(pilot, FormDialog)
        await _type(pilot, "ticket=refund me; lang=en")
        await pilot.press("tab")
        await _type(pilot, "refunded")
        await pilot.press("tab")
        await _type(pilot, "billing")
        await pilot.press("tab", "tab", "tab")
        await _type(pilot, "python:x")
        await pilot.press("enter")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+u")
        await _type(pilot, "icontains:refund")
        await pilot.press("enter")
        await _until(pilot, DatasetsScreen)
        assert _cases(store)[1] == (
            "tickets",
            '{"ticket": "refund me", "lang": "en"}',
            "refunded",
            '{"task_type": "billing"}',
            '[{"kind": "icontains", "value": "refund"}]',
        )
        assert _rows(screen, "#datasets-table") == [["tickets", "2"]]
        assert _rows(screen, "#cases-table")[1][1:] == [
            "ticket=refund me; lang=en", "refunded", "1", "task_type=billing"
        ]  # fmt: skip

        # e: edit the new case: its golden answer and a failure mode.
        screen.query_one("#cases-table", DataTable).focus()
        await pilot.press("down", "e")
        await _until(pilot, FormDialog)
        await pilot.press("tab", "ctrl+u")
        await _type(pilot, "issued")
        await pilot.press("tab", "tab", "tab")
        await _type(pilot, "vague")
        await pilot.press("ctrl+s")
        await _until(pilot, DatasetsScreen)
        assert _cases(store)[1][2:4] == (
            "issued",
            '{"task_type": "billing", "failure_mode": "vague"}',
        )

        # x: the case a run has results for is kept; the new one goes.
        await pilot.press("up", "x")
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, DatasetsScreen)
        assert len(_cases(store)) == 2
        await pilot.press("down", "delete")
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, DatasetsScreen)
        assert [row[1] for row in _cases(store)] == ['{"ticket": "in a run"}']

        # i: import a promptfoo CSV into a new dataset; it is selected when it appears.
        source = tmp_path / "faq.csv"
        source.write_text(
            "question,__expected,__expected1\nWhat is 2+2?,4,contains: four\nHi?,,is-json\n",
            encoding="utf-8",
        )
        await pilot.press("i")
        await _until(pilot, FormDialog)
        await _type(pilot, source.name)  # the working directory is tmp_path
        await pilot.press("tab", "ctrl+u")
        await _type(pilot, "faq")
        await pilot.press("enter")
        await _until(pilot, DatasetsScreen)
        assert _rows(screen, "#datasets-table") == [["faq", "2"], ["tickets", "1"]]
        await _shows(
            pilot,
            screen,
            "#cases-table",
            [["question=What is 2+2?", "4", "1", ""], ["question=Hi?", "", "1", ""]],
            first_column=1,
        )

        # n: a new, empty dataset; escape goes back to where the screen was opened.
        await pilot.press("n")
        await _until(pilot, FormDialog)
        await _type(pilot, "regressions")
        await pilot.press("enter")
        await _until(pilot, DatasetsScreen)
        assert _rows(screen, "#datasets-table")[1] == ["regressions", "0"]
        await _shows(pilot, screen, "#cases-table", [])
        await pilot.press("X")
        await _until(pilot, ConfirmDialog)
        await pilot.press("y")
        await _until(pilot, DatasetsScreen)
        assert [row[0] for row in _rows(screen, "#datasets-table")] == ["faq", "tickets"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is before
