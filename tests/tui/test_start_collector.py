"""The cyclic collector, paused for the start (`LLMBenchApp.run` and `cli/tui_start.py`), runs
again once the first pane's data is on screen, and after GC_PAUSE_S when that data never
comes; the panes' keys work meanwhile."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmbench.tui import app as app_module
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.tui.conftest import SIZE, settle


@pytest.fixture
def paused_collector() -> Iterator[None]:
    gc.disable()  # as the app's start leaves it when run_test mounts the app
    try:
        yield
    finally:
        gc.enable()


async def test_the_collector_runs_again_once_the_first_pane_shows_its_data(
    make_app: Callable[..., LLMBenchApp], paused_collector: None
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.loaded
        assert gc.isenabled()  # well before GC_PAUSE_S: by the first pane's data
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "audit"


async def test_the_collector_runs_again_when_the_first_read_fails(
    make_app: Callable[..., LLMBenchApp],
    paused_collector: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(self: PromptsScreen) -> Any:
        raise OSError("disk I/O error (test)")

    monkeypatch.setattr(PromptsScreen, "fetch", failing)
    monkeypatch.setattr(app_module, "GC_PAUSE_S", 0.1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.screen.loaded and app.screen.has_class("-empty")
        await pilot.pause(0.3)
        assert gc.isenabled()
