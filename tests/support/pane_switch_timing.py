"""F6 pressed right after the app opens, timed to the first frame painted with the audit log's
rows, and what the first pane (F2) was still reading at the press.

Shared by the Pilot test (tests/tui/test_pane_switch_at_start.py) and the benchmark
(tests/benchmarks/bench_pane_switch.py), so both measure the same thing: the clock starts as
the key is pressed and stops when a frame that shows the rows reaches the terminal driver
(`App._display`; a frame Textual holds back never reaches it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from textual.app import App
from textual.worker import WorkerCancelled

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.call_log import CallLog

TIMEOUT_S = 60.0
SIZE = (140, 40)


@dataclass(frozen=True)
class SwitchTiming:
    painted_ms: float
    """From the F6 press to the first frame painted with the audit log's rows."""
    first_pane_reads: tuple[str, ...]
    """The first pane's reads under way at the press (worker names)."""
    first_pane_stopped_ms: float
    """From the press until none of the first pane's reads was running any more."""
    first_pane: PaneScreen[Any] = field(repr=False, compare=False)


@contextmanager
def audit_frames() -> Iterator[list[float]]:
    """The moments frames showing the audit log's rows reach the terminal driver."""
    frames: list[float] = []
    original = App._display

    def display(shown: App[Any], screen: Any, renderable: Any) -> None:
        original(shown, screen, renderable)
        if renderable is None or shown._batch_count or not isinstance(screen, AuditScreen):
            return
        found = screen.query(CallLog)
        if found and found.first().loaded and found.first().rows:
            frames.append(time.perf_counter())

    App._display = display  # type: ignore[method-assign]
    try:
        yield frames
    finally:
        App._display = original  # type: ignore[method-assign]


def reads_under_way(pane: PaneScreen[Any]) -> list[str]:
    """The pane's reads that have started and not ended (their threads still in them)."""
    return [worker.name for worker in list(pane._in_flight)]


async def f6_after_start(app: LLMBenchApp, *, wait_s: float = 5.0) -> SwitchTiming:
    """Run `app` headless; as soon as the first pane is reading in its workers (at most `wait_s`
    after the app is up), press F6, and time its rows' first painted frame."""
    with audit_frames() as frames:
        async with app.run_test(size=SIZE) as pilot:
            first = app.screen
            assert isinstance(first, PaneScreen)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_s
            while not reads_under_way(first) and loop.time() < deadline:
                await asyncio.sleep(0.0005)
            reading = reads_under_way(first)
            started = time.perf_counter()
            await pilot.press("f6")
            stopped: float | None = None
            while not frames or stopped is None:
                if stopped is None and not reads_under_way(first):
                    stopped = time.perf_counter()
                await asyncio.sleep(0.0005)
                if time.perf_counter() - started > TIMEOUT_S:
                    raise TimeoutError(f"F6's rows or F2's reads not done in {TIMEOUT_S} s")
            with suppress(WorkerCancelled):  # the reads F6 stopped
                await app.workers.wait_for_complete()
    return SwitchTiming(
        painted_ms=round((frames[0] - started) * 1000, 2),
        first_pane_reads=tuple(reading),
        first_pane_stopped_ms=round((stopped - started) * 1000, 2),
        first_pane=first,
    )
