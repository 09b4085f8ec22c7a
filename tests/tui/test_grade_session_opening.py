"""A grading session opens with its first item drawn (issue 23): the first items' bodies are read
with the queue, in the worker that builds it (tui/screens/grade/launch.py), so no frame of the
session shows "Loading…" and the item is not laid out again when its body comes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.grade.session import GradeSessionScreen
from tests.support import key_timing
from tests.tui.conftest import DEMO_NOW, demo_settings


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


@pytest.mark.parametrize(("key", "shown"), [("g", "OUTPUT"), ("b", "OUTPUT"), ("p", "A  (left)")])
async def test_the_first_frame_of_a_session_shows_its_item(
    own_store: Store, key: str, shown: str
) -> None:
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await key_timing.quiet(pilot)
        frames: list[str] = []
        # Every frame goes through App._display (tests/support/key_timing.py says why).
        original = app._display

        def display(screen: Screen[Any], renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and isinstance(screen, GradeSessionScreen):
                texts = screen.query("#grade-item-text, #pair-left")
                frames.append("\n".join(str(text.render()) for text in texts))

        app._display = display  # type: ignore[method-assign]
        await pilot.press(key)
        await key_timing.quiet(pilot)
        assert isinstance(app.screen, GradeSessionScreen)
        assert frames, "the session painted no frame"
        assert shown in frames[0]
        assert not [frame for frame in frames if "Loading…" in frame]
