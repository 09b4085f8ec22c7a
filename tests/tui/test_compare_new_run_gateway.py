"""F3's `n` leaves litellm's import (seconds, in a thread of its own) until the new-comparison
dialog has shown what it reads (issue 23): started with the key, the import held the interpreter
while the dialog's first frame, its models' read and its fit check waited for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from llmbench.services.evaluation import engine
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.compare.new_run import NewRunDialog
from tests.support import key_timing
from tests.tui.conftest import settle


async def test_litellm_loads_once_the_dialog_shows_its_reads(
    make_app: Callable[..., LLMBenchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    started: list[tuple[bool, bool, bool]] = []
    """At each start of the import: the dialog on top, its models shown, its fit checked."""
    real = engine.prefetch_gateway

    def recording() -> threading.Thread:
        screen = app.screen
        if isinstance(screen, NewRunDialog):
            started.append((True, screen.overview is not None, screen.fit_problems is not None))
        else:
            started.append((False, False, False))
        return real()

    monkeypatch.setattr(engine, "prefetch_gateway", recording)
    async with app.run_test() as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("n")
        await key_timing.quiet(pilot)
        assert isinstance(app.screen, NewRunDialog)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not started and loop.time() < deadline:
            await pilot.pause(0.05)
        await key_timing.quiet(pilot)
        assert started == [(True, True, True)]
