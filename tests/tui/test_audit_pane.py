"""F6 with its real keys on a private copy of the demo database: filter as you type, search,
move through the log, open a call, copy, promote it to a test case, open its version, export."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.call_detail import CallDetailScreen
from llmbench.tui.screens.audit.columns import ColumnsDialog
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.dialogs import FormDialog
from llmbench.tui.widgets.call_log import CallLog
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    """These tests write: each gets its own copy of the session's demo database."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _sql(store: Store) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)


def _log(app: LLMBenchApp) -> CallLog:
    return app.screen.query_one("#call-log", CallLog)


def _status(app: LLMBenchApp) -> str:
    return str(app.screen.query_one("#audit-status", Static).render())


async def _type(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def _until(pilot: Pilot[None], screen_type: type) -> None:
    for _ in range(200):
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


async def _query(pilot: Pilot[None], text: str) -> None:
    """Focus the bar with /, replace what it holds, type `text` and press enter."""
    await pilot.press("slash")
    bar = pilot.app.screen.query_one("#audit-query", Input)
    while bar.value:
        await pilot.press("backspace")
    await _type(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


async def test_filter_search_and_move_through_the_log(own_store: Store) -> None:
    with _sql(own_store) as sql:
        newest = [r[0] for r in sql.execute("SELECT id FROM calls ORDER BY ts DESC, id DESC")]
        errors = [
            r[0]
            for r in sql.execute(
                "SELECT id FROM calls WHERE model = 'gpt-4o' AND status = 'error'"
                " ORDER BY ts DESC, id DESC"
            )
        ]
        found = [
            r[0]
            for r in sql.execute(
                "SELECT rowid FROM calls_fts WHERE calls_fts MATCH 'refund' ORDER BY rowid DESC"
            )
        ]
    assert errors and len(found) > 100
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        log = _log(app)
        assert app.focused is log
        assert [row.id for row in log.rows[:50]] == newest[:50]
        assert _status(app).startswith(f"{len(newest):,} calls  ·  row 1  ·  #{newest[0]}")

        # Page keys and j move the cursor; G goes to the oldest call, g back to the newest.
        await pilot.press("pagedown", "pagedown", "j")
        await settle(pilot)
        assert log.current is not None and log.current.id == newest[log.cursor]
        await pilot.press("G")
        await settle(pilot)
        assert log.current is not None and log.current.id == newest[-1]
        assert f"row {len(newest):,}" in _status(app)
        await pilot.press("g")
        await settle(pilot)
        assert log.current is not None and log.current.id == newest[0]

        # The query bar filters as you type (after a pause), and says what it cannot read.
        await pilot.press("slash")
        await _type(pilot, "model:gpt-4o status:error")
        await pilot.pause(0.4)
        await settle(pilot)
        assert [row.id for row in log.rows] == errors[: len(log.rows)]
        assert _status(app).startswith(f"{len(errors):,} call")
        await _type(pilot, " cost>cheap")
        await pilot.pause(0.4)
        await settle(pilot)
        error = str(app.screen.query_one("#query-error", Static).render())
        assert "cost needs a number, not 'cheap'" in error
        assert [row.id for row in log.rows] == errors[: len(log.rows)]  # the last good filter

        # Free text is a full-text search, with the matches marked.
        await _query(pilot, "refund")
        assert app.focused is log
        assert str(app.screen.query_one("#query-error", Static).render()) == ""
        assert [row.id for row in log.rows[:80]] == found[:80]
        first = log.rows[0]
        assert first.snippet is not None and first.snippet.spans
        start, end = first.snippet.spans[0]
        assert first.snippet.text[start:end].lower().startswith("refund")
        assert _status(app).startswith(f"{len(found):,} calls match")


async def test_jump_to_a_date_and_choose_columns(own_store: Store) -> None:
    with _sql(own_store) as sql:
        (landing,) = sql.execute(
            "SELECT id FROM calls WHERE ts < '2025-05-21T00:00:00.000Z'"
            " ORDER BY ts DESC, id DESC LIMIT 1"
        ).fetchone()
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        log = _log(app)
        await pilot.press("t")
        await _until(pilot, FormDialog)
        field = app.screen.query_one("#field-when", Input)
        field.value = ""
        await _type(pilot, "2025-05-20")
        await pilot.press("enter")
        await _until(pilot, AuditScreen)
        assert log.current is not None and log.current.id == landing
        # Calls newer than the landing point are read too: up goes back in time's direction.
        await pilot.press("k")
        await settle(pilot)
        assert log.current is not None and log.current.ts >= "2025-05-21"

        await pilot.press("c")
        await _until(pilot, ColumnsDialog)
        await pilot.press("space")  # the first entry, "#", off
        await pilot.press("enter")
        await _until(pilot, AuditScreen)
        assert log.columns[0].key == "time"
        assert app.screen.columns[0] == "time"


async def test_detail_copy_promote_and_open_the_version(
    own_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyperclip

    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    with _sql(own_store) as sql:
        call_id, request_id, response, version_id, prompt_id = sql.execute(
            "SELECT c.id, c.request_id, c.response, c.prompt_version_id, v.prompt_id"
            " FROM calls c JOIN prompt_versions v ON v.id = c.prompt_version_id"
            " WHERE c.status = 'ok' AND c.response LIKE '%refund%'"
            " ORDER BY c.ts DESC, c.id DESC LIMIT 1"
        ).fetchone()
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await _query(pilot, f"request:{request_id} refund")
        log = _log(app)
        assert log.current is not None and log.current.id == call_id
        await pilot.press("enter")
        await _until(pilot, CallDetailScreen)
        text = str(app.screen.query_one("#detail-text", Static).render())
        assert f"Call #{call_id}" in text
        assert "CONVERSATION" in text and "RESPONSE" in text and "INTEGRITY" in text
        assert response.splitlines()[0][:40] in text

        # o copies the response through pyperclip; c the request, via OSC 52 when pyperclip
        # has no clipboard tool to use.
        await pilot.press("o")
        assert copied == [response]

        def no_tool(_text: str) -> None:
            raise pyperclip.PyperclipException("no clipboard mechanism")

        monkeypatch.setattr(pyperclip, "copy", no_tool)
        await pilot.press("c")
        request = json.loads(app.clipboard)
        assert request["messages"][-1]["role"] == "user"

        # p promotes the call to a test case of a new dataset.
        await pilot.press("p")
        await _until(pilot, FormDialog)
        dataset = app.screen.query_one("#field-dataset", Input)
        dataset.value = ""
        await _type(pilot, "from-audit")
        await pilot.press("enter")
        await _until(pilot, CallDetailScreen)
        await settle(pilot)
        with _sql(own_store) as sql:
            rows = sql.execute(
                "SELECT c.source, c.source_call_id, c.expected, c.vars FROM cases c"
                " JOIN datasets d ON d.id = c.dataset_id WHERE d.name = 'from-audit'"
            ).fetchall()
        assert len(rows) == 1
        source, source_call, expected, case_vars = rows[0]
        assert (source, source_call, expected) == ("promoted-from-call", call_id, response)
        assert next(iter(json.loads(case_vars).values())) == request["messages"][-1]["content"]

        # v opens the call's prompt version in F2.
        await pilot.press("v")
        await settle(pilot)
        assert app.current_mode == "prompts"
        await settle(pilot)
        assert app.screen.prompt_id == prompt_id  # type: ignore[attr-defined]
        versions = app.screen.query_one("#versions-table", DataTable)
        assert versions.coordinate_to_cell_key(versions.cursor_coordinate).row_key.value == str(
            version_id
        )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_export_writes_the_filtered_calls(own_store: Store, tmp_path: Path, fmt: str) -> None:
    with _sql(own_store) as sql:
        expected = [
            r[0]
            for r in sql.execute("SELECT id FROM calls WHERE status = 'timeout' ORDER BY ts, id")
        ]
    target = tmp_path / f"timeouts.{fmt}"
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await _query(pilot, "status:timeout")
        await pilot.press("x")
        await _until(pilot, FormDialog)
        app.screen.query_one("#field-path", Input).value = str(target)
        app.screen.query_one("#field-format").value = fmt  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await _until(pilot, AuditScreen)
        await settle(pilot)
    if fmt == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
    else:
        with target.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    assert [int(row["id"]) for row in rows] == expected
    assert {str(row["status"]) for row in rows} == {"timeout"}
    assert not any(name.endswith(".partial") for name in map(str, tmp_path.iterdir()))
