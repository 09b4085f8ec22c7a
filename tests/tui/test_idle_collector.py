"""The collector's full passes wait for a still moment (llmbench/tui/idle_collector.py): none
while keys keep coming, one soon after they stop, and Python's own threshold back as it was
once the app has closed."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.widgets import Input

from llmbench.tui import idle_collector
from llmbench.tui.idle_collector import NEVER, CollectsWhenIdle


class Typing(CollectsWhenIdle):
    def compose(self) -> ComposeResult:
        yield Input()


@pytest.fixture
def full_passes() -> Iterator[list[int]]:
    """Every full pass (generation 2) that starts while the test runs."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def _make_a_full_pass_due() -> None:
    # Each pass of generation 1 counts toward the next full one, as Python's own do.
    for _ in range(gc.get_threshold()[1] + 1):
        gc.collect(1)


async def test_full_passes_wait_until_the_keys_stop(
    monkeypatch: pytest.MonkeyPatch, full_passes: list[int]
) -> None:
    monkeypatch.setattr(idle_collector, "STILL_FOR_S", 0.3)
    before = gc.get_threshold()
    app = Typing()
    async with app.run_test() as pilot:
        assert gc.get_threshold()[2] == NEVER  # Python's own full pass is left out
        full_passes.clear()  # Python's own, before the app was mounted
        app._thresholds = (before[0], before[1], 10)  # due after 10 young passes, as by default
        _make_a_full_pass_due()
        for _ in range(8):  # typing: a key every 0.1 s, never still for STILL_FOR_S
            await pilot.press("a")
            await asyncio.sleep(0.1)
        assert not full_passes
        await asyncio.sleep(0.3 + 3 * idle_collector.CHECK_EVERY_S)
        assert full_passes  # still: the pass that was due has run
        assert gc.get_count()[2] < 10
    assert gc.get_threshold() == before


async def test_a_second_app_leaves_the_threshold_to_the_first() -> None:
    before = gc.get_threshold()
    first, second = Typing(), Typing()
    async with first.run_test():
        async with second.run_test():
            assert gc.get_threshold()[2] == NEVER
        assert gc.get_threshold()[2] == NEVER  # the first app still runs
    assert gc.get_threshold() == before


async def test_background_work_waits_for_a_still_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idle_collector, "STILL_FOR_S", 0.3)
    app = Typing()
    async with app.run_test() as pilot:
        loop = asyncio.get_running_loop()
        waited = loop.run_in_executor(None, app.wait_until_still)
        last_key = loop.time()
        for _ in range(6):  # a key every 0.1 s: never still for 0.3 s
            await pilot.press("x")
            last_key = loop.time()
            await asyncio.sleep(0.1)
            assert not waited.done()
        await asyncio.wait_for(waited, 5)
        assert loop.time() - last_key >= 0.3 - 0.05  # monotonic clocks, read a little apart


async def test_background_work_waiting_for_stillness_ends_with_the_app() -> None:
    app = Typing()
    async with app.run_test() as pilot:
        await pilot.press("x")
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.run_in_executor(None, app.wait_until_still), 1)
