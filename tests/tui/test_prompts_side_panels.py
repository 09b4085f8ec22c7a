"""F2's first frame shows the library without the history's table and the version's detail,
which are mounted with the first history read (`tui/widgets/version_table.py: versions_in`): a
key that needs them sooner mounts them then, and what the read brings fills them as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import RenderableType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Static

from llmbench.services.prompts import history as prompt_history
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.widgets.version_table import VersionTable
from tests.tui.conftest import SIZE, settle


def _detail(screen: PromptsScreen) -> str:
    return str(screen.query_one("#version-detail-text", Static).render())


async def _until_loaded(pilot: Pilot[None], timeout_s: float = 30.0) -> PromptsScreen:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        screen = pilot.app.screen
        if isinstance(screen, PromptsScreen) and screen.loaded:
            return screen
        await pilot.pause(0.01)
    raise AssertionError("the library was not shown")


async def test_the_first_frame_has_the_library_and_the_history_follows_it(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    frames: list[tuple[int, bool]] = []
    display = app._display

    def first_data_frame(screen: Screen[Any], renderable: RenderableType | None) -> None:
        shown = renderable is not None and isinstance(screen, PromptsScreen) and screen.loaded
        if shown and not frames:
            assert isinstance(screen, PromptsScreen)
            frames.append((len(screen.library_rows), bool(screen.query(VersionTable))))
        display(screen, renderable)

    app._display = first_data_frame  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromptsScreen) and screen.prompt_history is not None
        table = screen.query_one("#versions-table", DataTable)
        assert table.row_count == len(screen.prompt_history.versions) > 0
        # The cursor is on production, and that version is in the detail below the table.
        labels = str(table.get_row_at(table.cursor_row)[1])
        assert "production" in labels
        assert screen.shown is not None and "production" in screen.shown.labels
        assert screen.prompt_history.prompt.name in _detail(screen)
        assert f"v{screen.shown.version.version}" in _detail(screen)
    assert frames, "no frame showed the library"
    rows, has_history_table = frames[0]
    assert rows > 0 and not has_history_table


async def test_enter_before_the_first_history_focuses_its_table_which_then_fills(
    make_app: Callable[..., LLMBenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_history = prompt_history.history

    def slow_history(store: Any, prompt_id: int) -> prompt_history.PromptHistory:
        release.wait(10)
        return real_history(store, prompt_id)

    monkeypatch.setattr(prompt_history, "history", slow_history)
    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _until_loaded(pilot)
            assert not screen.query(VersionTable)  # its history is still being read
            await pilot.press("d")  # nothing to diff yet: told so, as before
            assert screen.shown is None
            await pilot.press("enter")  # from the library to its versions, at once
            table = screen.query_one("#versions-table", VersionTable)
            assert app.focused is table
            release.set()
            await settle(pilot)
            assert screen.prompt_history is not None
            assert table.row_count == len(screen.prompt_history.versions) > 0
            assert app.focused is table
            assert screen.prompt_history.prompt.name in _detail(screen)
            assert len(screen.query(VersionTable)) == 1
    finally:
        release.set()
