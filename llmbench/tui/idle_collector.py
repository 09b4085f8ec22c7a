"""The cyclic collector's full passes, run while the user is not waiting for a key.

Python runs a full pass (generation 2) when enough objects have survived the younger ones,
wherever the interpreter is at that moment. In the TUI its heap is mostly Textual's drawn lines
(a Strip and its caches per line of every pane) and a pass walks all of it: 60-250 ms, inside
whichever key was being answered (issue 23: measured in one key's run in four). Here the
automatic full pass is left out (its threshold set out of reach; the young generations are
collected as before) and the app runs it itself, once the keyboard and mouse have been still
for a moment and no worker is reading, no more often than Python would have (after as many
young passes); at the latest FORCE_AFTER_S after the last one, so a user who never pauses still
gets their memory back.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from textual import events
from textual.app import App

CHECK_EVERY_S = 0.2
STILL_FOR_S = 0.5
"""How long no key or mouse event came before a full pass may run (nor may it while a worker
reads: the key's result is not on screen yet)."""
FORCE_AFTER_S = 30.0
STILL_WAIT_LIMIT_S = 60.0
"""The longest background work waits for a still moment (`wait_until_still`) before going on."""
NEVER = 1 << 30
"""A generation-2 threshold the count of generation-1 passes never reaches."""


class CollectsWhenIdle(App[None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_input = time.monotonic()
        self._last_full_pass = time.monotonic()
        self._thresholds: tuple[int, int, int] | None = None
        self._unmounted = threading.Event()

    def on_mount(self) -> None:
        young, middle, full = gc.get_threshold()
        if full >= NEVER:  # another app of this process holds it already (tests)
            return
        self._thresholds = (young, middle, full)
        gc.set_threshold(young, middle, NEVER)
        self.set_interval(CHECK_EVERY_S, self._full_pass_when_still, name="idle collector")

    def on_unmount(self) -> None:
        self._unmounted.set()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def wait_until_still(self) -> None:
        """From a thread doing background work that can wait (importing what screens will
        open with): wait until no key or mouse event has come for STILL_FOR_S, so that it does
        not share the interpreter with a key's answer (the first seconds after start, when the
        user is often already pressing keys). Returns once the app is gone, or after
        STILL_WAIT_LIMIT_S whatever happens."""
        deadline = time.monotonic() + STILL_WAIT_LIMIT_S
        while not self._unmounted.is_set() and time.monotonic() < deadline:
            quiet_for = time.monotonic() - self._last_input
            if quiet_for >= STILL_FOR_S:
                return
            self._unmounted.wait(STILL_FOR_S - quiet_for)

    def _full_pass_when_still(self) -> None:
        if self._thresholds is None or not gc.isenabled():  # paused while a pane opens
            return
        if gc.get_count()[2] < self._thresholds[2]:  # as many young passes as Python waits for
            return
        now = time.monotonic()
        overdue = now - self._last_full_pass >= FORCE_AFTER_S
        if not overdue and (
            now - self._last_input < STILL_FOR_S or any(w.is_running for w in self.workers)
        ):
            return
        gc.collect()
        self._last_full_pass = time.monotonic()
