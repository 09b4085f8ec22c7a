"""The first `llmbench demo` opens the TUI at once (issue 17): a screen shows the build's
progress, the panes open once the demo is built, pane keys wait for it; ctrl+c (or ctrl+q)
during the build stops it and leaves no half-built demo behind, so the next start rebuilds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import ProgressBar

from llmbench.demo.build import build_demo
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.demo_build import DemoBuild, DemoBuildScreen, Progress
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.tui.conftest import DEMO_NOW, demo_settings, settle

CALLS = 200


class HeldBuild:
    """The real demo build, held at its first report of the writing half (the database file
    is there, half-written, in the store's writer thread) until `go` is set."""

    def __init__(self, path: Path, *, hold: bool) -> None:
        self.path = path
        self.reached = threading.Event()
        self.go = threading.Event()
        if not hold:
            self.go.set()

    def __call__(self, progress: Progress) -> str:
        def held(done: int, total: int) -> None:
            if done >= total // 2 and not self.reached.is_set():
                self.reached.set()
                self.go.wait(timeout=30)
            progress(done, total)

        summary = build_demo(self.path, calls=CALLS, now=DEMO_NOW, progress=held)
        return summary.describe()


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; on {pilot.app.screen!r}")
        await pilot.pause(0.02)


def _left_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


async def test_demo_builds_behind_its_progress_and_ctrl_c_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data" / "demo.db"

    # ctrl+c mid-build: the build stops, its unfinished file is removed, the app quits.
    held = HeldBuild(path, hold=True)
    app = LLMBenchApp(None, demo_settings(), demo_build=DemoBuild(path, CALLS, held))
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, DemoBuildScreen)  # the first frame: no waiting
        await _until(pilot, held.reached.is_set)
        assert any(p.name.endswith(".building") for p in path.parent.iterdir())
        await pilot.press("f3")  # no pane before the demo is built: said, not crashed
        await pilot.pause()
        assert isinstance(app.screen, DemoBuildScreen) and app.building
        assert any("as soon as the demo is built" in n.message for n in app._notifications)
        await pilot.press("ctrl+c")
        held.go.set()
        await _until(pilot, lambda: app.return_code is not None)
    assert not path.exists()
    assert _left_in(path.parent) == []  # no half-built file, no -wal or -shm beside it

    # The next start builds it again, shows how far it got, then opens the panes on it.
    again = HeldBuild(path, hold=True)
    app = LLMBenchApp(
        None, demo_settings(), clock=lambda: DEMO_NOW, demo_build=DemoBuild(path, CALLS, again)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, again.reached.is_set)
        again.go.set()
        await _until(pilot, lambda: isinstance(app.screen, PromptsScreen))
        await settle(pilot)
        assert app.screen.query_one("#prompts-table").row_count > 0
        assert any(n.title == "Demo database built" for n in app._notifications)
        await pilot.press("f3")  # every pane key works now
        await settle(pilot)
        assert app.current_mode == "compare"
        await pilot.press("ctrl+q")
        await _until(pilot, lambda: app.return_code is not None)
    app.store.close()  # as the CLI does once the app has quit
    assert _left_in(path.parent) == ["demo.db"]


async def test_the_bar_shows_the_build_and_ctrl_q_stops_it_too(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    held = HeldBuild(path, hold=True)
    app = LLMBenchApp(None, demo_settings(), demo_build=DemoBuild(path, CALLS, held))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DemoBuildScreen)
        bar = screen.query_one(ProgressBar)
        await _until(pilot, held.reached.is_set)
        await _until(pilot, lambda: bar.total is not None)  # the build's first report
        await pilot.press("ctrl+q")  # held half-way through writing
        assert app.return_code is None  # it waits for the build to unwind first
        held.go.set()
        await _until(pilot, lambda: app.return_code is not None)
    assert _left_in(tmp_path) == []
