"""F2's first read starts as the pane is built (`tui/screens/read_ahead.py`): finished by the
time the pane is shown, its data is in the pane's first frame, with no worker; still reading,
the pane's worker waits for that read instead of starting another; failing, it says why and
`r` reads again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait
from typing import Any

import pytest
from rich.console import RenderableType
from textual.screen import Screen

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.screens.read_ahead import ReadAheadPane
from llmbench.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import settle

DEMO_PROMPTS = {"support-reply", "extract-invoice", "summarize-thread"}


def _names(app: LLMBenchApp) -> set[str]:
    table = app.screen.query_one("#prompts-table", VirtualTable)
    return {str(row.cells[0]) for row in table.rows}


async def test_a_finished_first_read_is_in_the_first_frame(
    make_app: Callable[..., LLMBenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race made certain: the read ahead has finished when the pane is shown.
    shown_by = ReadAheadPane.reload

    def reload_once_read(self: ReadAheadPane[Any]) -> None:
        if self._ahead is not None:
            wait([self._ahead])
        shown_by(self)

    monkeypatch.setattr(ReadAheadPane, "reload", reload_once_read)
    reads: list[str] = []
    real_fetch = PromptsScreen.fetch

    def fetch(self: PromptsScreen) -> Any:
        reads.append(threading.current_thread().name)
        return real_fetch(self)

    monkeypatch.setattr(PromptsScreen, "fetch", fetch)
    app = make_app()
    frames: list[tuple[bool, set[str]]] = []
    display = app._display

    def first_frames(screen: Screen[Any], renderable: RenderableType | None) -> None:
        if renderable is not None and isinstance(screen, PromptsScreen) and not frames:
            frames.append((screen.loaded, _names(app)))
        display(screen, renderable)

    app._display = first_frames  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
    assert frames, "no frame was drawn"
    loaded, names = frames[0]
    assert loaded and names >= DEMO_PROMPTS
    assert reads == ["llmbench-first-read"]  # the read ahead only: no worker read it again


async def test_a_first_read_still_under_way_is_waited_for_and_a_failed_one_is_told(
    make_app: Callable[..., LLMBenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    calls: list[str] = []
    real_fetch = PromptsScreen.fetch

    def slow_then_failing(self: PromptsScreen) -> Any:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:  # the read ahead: not done when the pane is shown, then it fails
            release.wait(10)
            raise OSError("disk I/O error (test)")
        return real_fetch(self)

    monkeypatch.setattr(PromptsScreen, "fetch", slow_then_failing)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PromptsScreen) and not screen.loaded
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        # One read only (the worker waited for the one under way), and its error is on screen.
        assert calls == ["llmbench-first-read"]
        assert not screen.loaded and screen.has_class("-empty")
        assert "disk I/O error (test)" in str(screen.query_one("#pane-empty").render())
        await pilot.press("r")
        await settle(pilot)
        assert screen.loaded and _names(app) >= DEMO_PROMPTS
    assert len(calls) == 2
