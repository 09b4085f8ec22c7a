"""Time a key from the moment it is posted to the end of the last frame painted with its result,
in a headless `App.run_test()`; and the minimal Textual app every figure is compared with.

Why headless rather than a pty: the harness must know which screen, mode and focus a key left
behind (to count it as an "open", to restore the scene for the next run) and must wait for the
workers a key starts; in a pty that state is invisible. What headless skips is turning the
compositor's update into escape codes and writing them: `FrameClock` turns each update into
escape codes itself (the work a terminal run does, minus the write), so a frame here costs what
it costs in a terminal up to the syscall.

Textual 8.2.8 has no public "frame painted" hook: every frame of the top screen goes through
`App._display(screen, renderable)` (Screen._compositor_refresh), so that is what FrameClock wraps,
on the one app instance. tests/tui/test_bench_keys_coverage.py pins the name and its call.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import WorkerState

from tests.support import textual_idle

QUIET_TIMEOUT_S = 15.0


class FrameClock:
    """Records the end of every frame of `app` (perf_counter seconds)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.frames: list[float] = []
        self._original: Callable[[Screen[Any], Any], None] = app._display
        app._display = self._display  # type: ignore[method-assign]

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        self._original(screen, renderable)
        if renderable is None:
            return
        render_segments = getattr(renderable, "render_segments", None)
        if render_segments is not None:  # a CompositorUpdate: what a terminal run writes
            render_segments(self.app.console)
        self.frames.append(time.perf_counter())

    def since(self, moment: float) -> list[float]:
        """The ends of the frames painted after `moment`."""
        return [end for end in self.frames if end >= moment]


def busy(app: App[Any]) -> bool:
    """A worker is running, or the screen has a repaint or layout still to do."""
    if any(worker.state in (WorkerState.PENDING, WorkerState.RUNNING) for worker in app.workers):
        return True
    screen = app.screen
    return bool(
        screen._dirty_widgets or screen._layout_required or screen._repaint_required
    )  # what Screen._on_idle itself checks before it paints


async def quiet(pilot: Pilot[Any], timeout: float = QUIET_TIMEOUT_S) -> None:
    """Until no message is queued, no worker runs and nothing waits to be painted, twice."""
    app = pilot.app
    deadline = time.perf_counter() + timeout
    readings = 0
    while readings < 2:
        await textual_idle.wait_until_no_messages()
        readings = 0 if busy(app) else readings + 1
        if readings == 0:
            await asyncio.sleep(0.002)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{app.screen!r} still busy after {timeout} s")


@dataclass(frozen=True)
class KeyTime:
    """Milliseconds from posting a key to the end of the first frame painted after it, and to
    the end of the last one before the app is quiet again: the frame with the key's whole
    result (the data a worker read for it included)."""

    first_ms: float
    settled_ms: float


async def time_key(pilot: Pilot[Any], clock: FrameClock, key: str) -> KeyTime | None:
    """How long `key` takes to reach the screen; None when it painted nothing."""
    started = time.perf_counter()
    await pilot.press(key)
    await quiet(pilot)
    frames = clock.since(started)
    if not frames:
        return None
    return KeyTime((frames[0] - started) * 1000, (frames[-1] - started) * 1000)


@dataclass(frozen=True)
class Figures:
    runs: int
    median_ms: float
    p95_ms: float
    first_ms: float
    max_ms: float


def figures(samples: list[float]) -> Figures:
    """Median and p95 (nearest rank) of the runs; the first run separately (a cold one)."""
    ordered = sorted(samples)
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return Figures(
        runs=len(samples),
        median_ms=round(statistics.median(ordered), 2),
        p95_ms=round(ordered[rank], 2),
        first_ms=round(samples[0], 2),
        max_ms=round(ordered[-1], 2),
    )


# -- the minimal app: what Textual itself costs on this machine -------------------------------


class _Pushed(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Static("A pushed screen.")


class MinimalApp(App[None]):
    """A 200-row DataTable (cursor moves) and a screen it pushes with `p`."""

    BINDINGS = [Binding("p", "push", "Push")]

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "name", "model", "cost", "latency")
        for n in range(200):
            table.add_row(n, f"row {n}", "gpt-4o-mini", f"${n / 1000:.4f}", f"{n * 3} ms")
        table.focus()

    def action_push(self) -> None:
        self.push_screen(_Pushed())


async def time_minimal(runs: int, size: tuple[int, int]) -> dict[str, Figures]:
    """The minimal app's cursor move ("key") and screen push ("open"), `runs` times each."""
    app = MinimalApp()
    samples: dict[str, list[float]] = {"key": [], "open": []}
    async with app.run_test(size=size) as pilot:
        clock = FrameClock(app)
        await quiet(pilot)
        for index in range(runs):
            moved = await time_key(pilot, clock, "down" if index % 2 == 0 else "up")
            pushed = await time_key(pilot, clock, "p")
            if moved is None or pushed is None:
                raise RuntimeError("the minimal app painted no frame for a key")
            samples["key"].append(moved.settled_ms)
            samples["open"].append(pushed.settled_ms)
            await pilot.press("escape")
            await quiet(pilot)
    return {kind: figures(values) for kind, values in samples.items()}


def count_layouts(screen: Screen[Any]) -> list[int]:
    """A counter of the screen's layout passes (`[n]`), reset by `layouts_of`."""
    counted = [0]
    original: Callable[..., None] = screen._refresh_layout

    def counting(*args: Any, **kwargs: Any) -> None:
        counted[0] += 1
        original(*args, **kwargs)

    screen._refresh_layout = counting  # type: ignore[method-assign]
    return counted


async def layouts_of(pilot: Pilot[Any], counted: list[int], key: str) -> int:
    """How many layout passes the screen makes from `key` until the app is quiet again."""
    await quiet(pilot)
    counted[0] = 0
    await pilot.press(key)
    await quiet(pilot)
    return counted[0]
