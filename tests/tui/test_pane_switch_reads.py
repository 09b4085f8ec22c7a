"""A pane that is left stops its reads (issue 21, "no pane waits on another"): a read still
running its SQL is interrupted at the switch, applies nothing and reports no failure; the pane
reads again when it is shown again."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.base import PaneScreen
from tests.support.pane_switch_timing import reads_under_way
from tests.tui.conftest import SIZE, open_pane, settle

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
