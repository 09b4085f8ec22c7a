"""Issue 21's acceptance: F6 pressed right after the app opens paints its rows within the goal
while the first pane's (F2's) reads are starting; those reads are stopped (none is left running
soon after the press), and F2 reads again when shown again.

The goal is 100 ms on a quiet machine, on a million calls (tests/benchmarks/bench_pane_switch.py
measures it there); a test shares the machine with the rest of the suite and runs on the session's
demo file, so it allows a generous multiple of it. How fast a stopped read ends, whatever it was
doing, is tests/store/test_read_interrupts.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.support.pane_switch_timing import f6_after_start
from tests.tui.conftest import DEMO_NOW, demo_settings, open_pane

GOAL_MS = 100
ALLOWED_MS = 20 * GOAL_MS


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    store = open_db(demo_db, create=False)
    yield store
    store.close()


async def test_f6_right_after_start_paints_and_f2_stops_reading(demo_store: Store) -> None:
    app = LLMBenchApp(demo_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    timing = await f6_after_start(app)
    print(timing)  # the figures, for the report (pytest -s)
    assert timing.painted_ms < ALLOWED_MS
    assert timing.first_pane_stopped_ms < ALLOWED_MS
    assert isinstance(timing.first_pane, PromptsScreen)


async def test_f2_reads_again_when_shown_after_its_reads_were_stopped(demo_store: Store) -> None:
    app = LLMBenchApp(demo_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        prompts = app.screen
        assert isinstance(prompts, PromptsScreen)
        await pilot.press("f6")  # at once: F2's first reads are stopped
        await open_pane(pilot, "f2")
        assert prompts.loaded
        history = prompts.prompt_history
        assert history is not None and history.prompt.id == prompts.prompt_id
