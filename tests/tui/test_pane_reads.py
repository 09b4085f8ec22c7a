"""A pane's replaceable reads: only the newest read of a group reaches the screen, even when an
older one posts its result after it (its thread passed the cancelled check just before the
newer read started, which a loaded machine makes happen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.base import DataRead, PaneScreen
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def store(pristine_copy: Path) -> Iterator[Store]:
    opened = open_db(pristine_copy, create=False)
    yield opened
    opened.close()


async def test_a_replaced_read_that_posts_late_is_not_applied(store: Store) -> None:
    app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        screen = app.screen
        assert isinstance(screen, PaneScreen)
        applied: list[Any] = []
        screen.read_in_thread(lambda: "older", applied.append, group="probe")
        screen.read_in_thread(lambda: "newer", applied.append, group="probe")
        await settle(pilot)
        assert applied == ["newer"]
        # The older read's result arriving last, as it can when its thread lost the race.
        screen.post_message(DataRead(applied.append, "older", ("probe", 1)))
        await pilot.pause()
        screen.post_message(DataRead(applied.append, "a write's result"))
        await pilot.pause()
        assert applied == ["newer", "a write's result"]
