"""F6's `i` imports another tool's calls with a progress bar, as `llmbench import` does: the
result is told and the log read again; a refused file shows its file:line problems and adds
nothing; escape during an import asks, and a cancelled import adds nothing. The palette offers
it. Everything is driven with the real keys on a private copy of the demo database."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, Static

from llmbench.services.imports import calls as import_calls
from llmbench.services.imports.sources import IMPORT_KINDS
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.import_dialog import ImportDialog
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, QuitDialog
from llmbench.tui.widgets.call_log import CallLog
from tests.tui.conftest import DEMO_NOW, demo_settings, open_pane, settle

LATER = "2025-06-01T11:59:0{}.000Z"  # newer than every demo call: the log shows them first


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _calls(store: Store) -> int:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM calls").fetchone()[0])
    finally:
        connection.close()


def _line(number: int, text: str) -> str:
    return json.dumps(
        {
            "request_id": f"imported-{number}",
            "ts": LATER.format(number),
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"question {number}"}],
            "response_text": text,
            "prompt_tokens": 12,
            "completion_tokens": 5,
        }
    )


def _jsonl(path: Path, count: int) -> Path:
    path.write_text(
        "".join(_line(n, f"imported answer {n}") + "\n" for n in range(count)), encoding="utf-8"
    )
    return path


async def _until(pilot: Pilot[None], done: Any, what: str, tries: int = 500) -> None:
    for _ in range(tries):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} did not happen; on {pilot.app.screen!r}")


async def _open_import(pilot: Pilot[None], path: Path) -> ImportDialog:
    await open_pane(pilot, "f6")
    await pilot.press("i")
    await _until(pilot, lambda: isinstance(pilot.app.screen, ImportDialog), "the dialog")
    dialog = pilot.app.screen
    assert isinstance(dialog, ImportDialog)
    assert pilot.app.focused is dialog.query_one("#import-path", Input)
    await pilot.press(*str(path))
    return dialog


async def _pick_kind(pilot: Pilot[None], dialog: ImportDialog, key: str) -> None:
    """From the path field: shift+tab to the kind, enter opens it, down to `key`, enter."""
    await pilot.press("shift+tab", "enter")
    await pilot.pause()
    steps = [kind.key for kind in IMPORT_KINDS].index(key)
    await pilot.press(*["down"] * steps, "enter")
    await pilot.pause()
    assert dialog.kind == key


def _status(dialog: ImportDialog) -> str:
    return str(dialog.query_one("#import-status", Static).render())


def _details(dialog: ImportDialog) -> str:
    return str(dialog.query_one("#import-details-text", Static).render())


async def test_an_import_shows_its_progress_and_result_and_refreshes_the_log(
    own_store: Store, tmp_path: Path
) -> None:
    source = _jsonl(tmp_path / "calls.jsonl", 3)
    before = _calls(own_store)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_import(pilot, source)
        await pilot.press("enter")
        await _until(pilot, lambda: dialog.ended is not None, "the import")
        assert "calls.jsonl: 3 calls read, 3 added, 0 already in the log" in _status(dialog)
        bar = dialog.query_one("#import-progress", ProgressBar)
        # Fed by the importer's own report (bytes of the file read), and full at the end.
        assert bar.display and bar.total == source.stat().st_size
        assert bar.progress == bar.total
        # The log behind the dialog was read again: the imported calls are its newest.
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, AuditScreen), "closing")
        await settle(pilot)
        log = app.screen.query_one("#call-log", CallLog)
        newest = [row.request_id for row in log.rows[:3]]
        assert newest == ["jsonl:imported-2", "jsonl:imported-1", "jsonl:imported-0"]
        # Importing the same file again adds nothing.
        await pilot.press("i")
        await _until(pilot, lambda: isinstance(app.screen, ImportDialog), "the dialog")
        again = app.screen
        assert isinstance(again, ImportDialog)
        await pilot.press(*str(source), "enter")
        await _until(pilot, lambda: again.ended is not None, "the second import")
        assert "3 calls read, 0 added, 3 already in the log" in _status(again)
    assert _calls(own_store) == before + 3


async def test_a_refused_file_shows_its_lines_and_adds_nothing(
    own_store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "broken.jsonl"
    source.write_text(
        _line(0, "fine") + "\n" + '{"model": "gpt-4o", "prompt_tokens": "many"}\nnot json at all\n',
        encoding="utf-8",
    )
    before = _calls(own_store)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_import(pilot, source)
        await pilot.press("enter")
        await _until(pilot, lambda: dialog.ended is not None, "the import")
        assert dialog.ended is not None and dialog.ended.problem
        assert "Import refused, nothing was written — 2 bad rows in broken.jsonl" in _status(dialog)
        details = _details(dialog)
        assert "broken.jsonl:2:" in details and "broken.jsonl:3:" in details
        assert not dialog.query_one("#import-progress", ProgressBar).display
        # A file that is not what was picked is refused before anything is read.
        await _pick_kind(pilot, dialog, "llm-logs")
        await pilot.press("tab", "enter")
        await pilot.pause()
        error = str(dialog.query_one("#import-error", Static).render())
        assert "not a SQLite database" in error
    assert _calls(own_store) == before


async def test_escape_asks_and_a_cancelled_import_adds_nothing(
    own_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The importer reports progress after its first call, then waits until the test lets it
    # go on: the cancel is asked for while the import is really inside its transaction.
    reported, released = threading.Event(), threading.Event()
    real_items = import_calls.call_items

    def held_items(kind: str, path: Path, mapping: Any, progress: Any) -> Iterator[Any]:
        items = list(real_items(kind, path, mapping, None))
        yield items[0]
        progress(1, len(items))
        reported.set()
        released.wait(10)
        progress(2, len(items))  # cancelled by now: this report raises
        yield from items[1:]

    monkeypatch.setattr(import_calls, "call_items", held_items)
    source = _jsonl(tmp_path / "big.jsonl", 5)
    before = _calls(own_store)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_import(pilot, source)
        await pilot.press("enter")
        await _until(pilot, reported.is_set, "the first progress report")
        await pilot.pause()
        assert "big.jsonl" in _status(dialog) and dialog.running is not None
        # escape asks; n keeps the import going.
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("n")
        await _until(pilot, lambda: app.screen is dialog, "back to the import")
        assert dialog.running is not None and not dialog.cancel.is_set()
        # escape again, y cancels.
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("y")
        await _until(pilot, lambda: dialog.cancel.is_set(), "the cancel")
        released.set()
        await _until(pilot, lambda: dialog.ended is not None, "the import's end")
        assert dialog.ended is not None and dialog.ended.cancelled
        assert "Import cancelled: nothing of big.jsonl was added." in _status(dialog)
    assert _calls(own_store) == before


async def test_a_promptfoo_config_becomes_a_suite_file(own_store: Store, tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts: ['Repeat after me: {{word}}']\n"
        "providers: [openai:gpt-4o-mini]\n"
        "tests:\n  - vars: {word: parcel}\n    assert: [{type: icontains, value: parcel}]\n",
        encoding="utf-8",
    )
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_import(pilot, config)
        assert dialog.query_one("#import-map-row").display
        await _pick_kind(pilot, dialog, "promptfoo")
        assert not dialog.query_one("#import-map-row").display
        await pilot.press("tab", "enter")
        await _until(pilot, lambda: dialog.ended is not None, "the conversion")
        assert "promptfooconfig.yaml →" in _status(dialog)
        assert "1 prompts, 1 models, 1 tests, 1 checks" in _status(dialog)
    assert (tmp_path / "promptfooconfig.eval.yaml").is_file()


def test_the_palette_offers_the_import(own_store: Store) -> None:
    app = _app(own_store)
    titles = {command.title: command.help for command in app._pane_action_commands()}
    assert "Audit: Import" in titles
    assert "(i, F6)" in titles["Audit: Import"]


async def test_a_large_import_reports_progress_from_its_reading_process(
    own_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file counts as large: a second process reads and seals, this one writes, and the
    # bar is fed by the reports it sends along with each chunk.
    monkeypatch.setattr(import_calls, "PARALLEL_MIN_BYTES", 0)
    source = _jsonl(tmp_path / "large.jsonl", 4)
    before = _calls(own_store)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_import(pilot, source)
        await pilot.press("enter")
        await _until(pilot, lambda: dialog.ended is not None, "the import", tries=1500)
        assert "large.jsonl: 4 calls read, 4 added" in _status(dialog)
        bar = dialog.query_one("#import-progress", ProgressBar)
        assert bar.total == source.stat().st_size and bar.progress == bar.total
    assert _calls(own_store) == before + 4


def _import_draft(store: Store) -> dict[str, str] | None:
    connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT body FROM drafts WHERE key = 'dialog:import'").fetchone()
    finally:
        connection.close()
    return json.loads(row[0]) if row else None


async def test_typed_fields_are_kept_when_quitting_and_back_on_reopen(
    own_store: Store, tmp_path: Path
) -> None:
    source = _jsonl(tmp_path / "kept.jsonl", 2)
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_import(pilot, source)
        await pilot.press("tab", *"ts=startTime")
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: isinstance(app.screen, QuitDialog), "the quit question")
        asked = str(app.screen.query_one("#quit-work", Static).render())
        assert 'the fields of "Import"' in asked
        await pilot.press("y")  # quit, keeping them
        await _until(pilot, lambda: app.return_code is not None, "quitting")
    assert _import_draft(own_store) == {
        "kind": "jsonl",
        "path": str(source),
        "map": "ts=startTime",
    }
    reopened = _app(own_store)
    async with reopened.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("i")
        await _until(pilot, lambda: isinstance(reopened.screen, ImportDialog), "the dialog")
        dialog = reopened.screen
        assert isinstance(dialog, ImportDialog)
        path = dialog.query_one("#import-path", Input)
        await _until(pilot, lambda: path.value == str(source), "the kept fields")
        assert dialog.query_one("#import-map", Input).value == "ts=startTime"
        # Imported: the draft has done its work and goes.
        await pilot.press("enter")
        await _until(pilot, lambda: dialog.ended is not None, "the import")
        assert "2 added" in _status(dialog)
        own_store.write(lambda db: None)  # behind the draft's deletion in the writer's queue
    assert _import_draft(own_store) is None
