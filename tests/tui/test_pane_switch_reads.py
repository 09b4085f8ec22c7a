"""A pane that is left stops its reads (issue 21, "no pane waits on another"): a read still
running its SQL is interrupted at the switch, applies nothing and reports no failure; the pane
reads again when it is shown again. F6's log pages are such reads, and its count waits for the
first rows; a read's thread starts at once, not when the event loop next turns."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

import pytest

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.pane import AuditScreen, FilteredCalls
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.call_log import Direction, LogSource
from tests.support.pane_switch_timing import reads_under_way
from tests.tui.conftest import SIZE, open_pane, settle

if TYPE_CHECKING:
    from llmbench.store.audit.browser import CallKey, Page

# A query that runs for minutes unless stopped: counting to ten billion in a recursive CTE.
ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) FROM n"
)


def endless_read(app: LLMBenchApp) -> Any:
    return app.store.connection().execute(ENDLESS).fetchone()


async def until_no_read(pane: PaneScreen[Any], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while reads_under_way(pane):
        assert loop.time() < deadline, f"{reads_under_way(pane)} still reading"
        await asyncio.sleep(0.005)


def errors_told(app: LLMBenchApp) -> list[str]:
    return [note.message for note in app._notifications if note.severity == "error"]


async def test_a_read_running_when_its_pane_is_left_is_stopped_and_applies_nothing(
    make_app: Any,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prompts = app.screen
        assert isinstance(prompts, PaneScreen)
        applied: list[Any] = []
        prompts.read_in_thread(lambda: endless_read(app), applied.append, group="probe")
        while not reads_under_way(prompts):  # in its SQL, or about to be
            await asyncio.sleep(0.005)
        await pilot.press("f6")
        await until_no_read(prompts)  # minutes of counting, unless interrupted
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert applied == []
        assert errors_told(app) == []


async def test_a_count_stopped_by_leaving_f6_is_counted_when_f6_is_shown_again(
    make_app: Any, demo_sql: sqlite3.Connection
) -> None:
    calls = demo_sql.execute("SELECT count(*) FROM calls").fetchone()[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert audit.matches == (calls, True)
        # A count still running as the user leaves (on a large log it takes a while).
        audit.matches = None
        source = audit.source
        assert source is not None
        audit.read_in_thread(
            lambda: endless_read(app), lambda found: audit._counted(source, found), group="count"
        )
        while not reads_under_way(audit):
            await asyncio.sleep(0.005)
        await pilot.press("f2")
        await until_no_read(audit)
        await settle(pilot)
        assert audit.matches is None  # the stopped count applied nothing
        await open_pane(pilot, "f6")
        assert audit.matches == (calls, True)
        assert errors_told(app) == []


async def test_a_read_starts_its_thread_before_the_event_loop_turns(make_app: Any) -> None:
    # A Textual thread worker would start only once its task came up in the event loop, behind
    # whatever was queued before it (a pane being mounted): the read is in its thread at once.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, PaneScreen)
        started = threading.Event()
        applied: list[Any] = []
        pane.read_in_thread(started.set, applied.append, group="probe")
        assert started.wait(5.0)  # the loop has not turned since: only a thread set it
        await settle(pilot)
        assert applied == [None]


class EndlessOnce:
    """The audit log's calls, whose first page read runs until stopped."""

    def __init__(self, app: LLMBenchApp, calls: LogSource) -> None:
        self.app = app
        self.calls = calls
        self.reads = 0

    def read(self, after: CallKey | None, direction: Direction, limit: int) -> Page:
        self.reads += 1
        if self.reads == 1:
            endless_read(self.app)
        return self.calls.read(after, direction, limit)

    def seek(self, moment: str, limit: int) -> Page:
        return self.calls.seek(moment, limit)


async def test_a_page_of_the_log_read_as_f6_is_left_is_stopped_and_read_when_shown_again(
    make_app: Any, demo_sql: sqlite3.Connection
) -> None:
    newest = demo_sql.execute("SELECT id FROM calls ORDER BY ts DESC, id DESC").fetchone()[0]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        audit = app.screen
        assert isinstance(audit, AuditScreen) and audit.source is not None
        log = audit.log_view
        slow = EndlessOnce(app, audit.source)
        log.set_source(slow)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while not reads_under_way(audit) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        # The log's page read is the pane's: tracked, so leaving the pane stops it.
        assert reads_under_way(audit) == ["read call-log-first"]
        await pilot.press("f2")
        await until_no_read(audit)  # minutes of counting, unless interrupted
        await settle(pilot)
        assert not log.loaded and slow.reads == 1  # the stopped read applied nothing
        assert errors_told(app) == []
        await open_pane(pilot, "f6")
        assert slow.reads == 2
        assert log.loaded and log.rows[0].id == newest


async def test_the_count_starts_once_the_first_rows_are_in(
    make_app: Any, demo_sql: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first paint of F6 never waits on a query over the whole log (issue 21).
    calls = demo_sql.execute("SELECT count(*) FROM calls").fetchone()[0]
    rows_in_at_count: list[int] = []
    count = FilteredCalls.count

    def counted_after_rows(source: FilteredCalls) -> tuple[int, bool]:
        audit = next(s for s in list(app.screen_stack) if isinstance(s, AuditScreen))
        rows_in_at_count.append(len(audit.log_view.rows))
        return count(source)

    monkeypatch.setattr(FilteredCalls, "count", counted_after_rows)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert audit.matches == (calls, True)
        assert len(rows_in_at_count) == 1 and rows_in_at_count[0] > 0
