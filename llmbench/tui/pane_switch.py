"""Switching panes: the pane left stops its reads, the app's background work yields to the pane
being opened, and that pane is shown without waiting out Textual's fixed hold when it is ready
sooner."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from textual.widget import AwaitMount

from llmbench.tui.idle_collector import CollectsWhenIdle

READY_POLL_S = 0.004
"""How often a pane switch checks whether the new pane is ready to be shown."""
YIELD_S = 1.0
"""The longest background work (and the cyclic collector) waits for a pane being opened."""
WORKER_THREADS = 16
"""Thread workers run in the event loop's default pool. Its default size (cores + 4: six on two
cores) is taken at start by the app's background work and the first pane's reads, and the next
pane's reads would queue behind them; an idle thread costs nothing but its connection."""
_WIDENED: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


class SwitchesWhenReady(CollectsWhenIdle):
    """An app whose panes, when left, stop their reads (`stop_reads`); whose background work
    waits (`yield_to_switch`) while a pane is being opened; whose mode switches end their hold
    of the frames once the new screen says it is `ready_to_show` (a pane built, resumed and
    showing its data); and whose collector's full passes wait for a still moment."""

    _switching = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._no_switch = threading.Event()
        self._no_switch.set()
        self._opening: tuple[Callable[[bool], None], bool] | None = None
        """What ends the wait for the pane being opened (enabling the collector again if told
        to), and whether that wait paused the collector."""
        self._ready_checks: list[Callable[[], None]] = []
        """What waits for the pane being opened to be `ready_to_show` (polled meanwhile)."""

    def on_mount(self) -> None:
        # Once per event loop (tests run many apps on one), which shuts it down as it closes.
        loop = asyncio.get_running_loop()
        if loop not in _WIDENED:
            _WIDENED.add(loop)
            pool = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="llmbench-worker")
            loop.set_default_executor(pool)

    def on_unmount(self) -> None:
        # Quitting while a pane opens: nothing waits any more, and the collector runs again.
        if self._opening is not None:
            end, _paused = self._opening
            end(True)
        self._no_switch.set()

    def pane_ready(self) -> None:
        """A pane just got its data on screen: whatever waits for it to be `ready_to_show`
        checks now rather than at its next poll, and a pane being opened is painted now."""
        opening = bool(self._ready_checks)
        for check in list(self._ready_checks):
            check()
        if opening and not self._batch_count and self._front_pane_ready():
            # Left to Textual, the frame waits for the screen's update timer, whose first tick
            # on a new screen comes a whole period (1/60 s) after it is first resumed (the same
            # wait when the hold of the frames ended before the data came): this is the call
            # that tick makes, which paints what changed.
            self.screen._on_timer_update()

    def yield_to_switch(self) -> None:
        """From a thread doing background work (not a pane's read): wait while a pane is being
        opened, so that its build and reads have the interpreter and the cores (YIELD_S at most:
        background work is delayed, never starved)."""
        self._no_switch.wait(YIELD_S)

    def switch_mode(self, mode: str) -> AwaitMount:
        if mode != self.current_mode and mode in self._modes:
            # At once, not in the ScreenSuspend handler: that message is handled only after
            # the new pane has been built, while the old reads hold the cores and pool threads.
            for screen in self.screen_stack:
                stop = getattr(screen, "stop_reads", None)
                if stop is not None:
                    stop()
            self._until_opened()
        self._switching = True
        try:
            return super().switch_mode(mode)
        finally:
            self._switching = False

    def _until_opened(self) -> None:
        """Background work waits, and the collector pauses, until the pane switched to shows its
        data (a first visit builds hundreds of objects; a collection then is a pause of up to
        ~150 ms on a large heap), YIELD_S at most."""
        paused = False  # by this switch; else paused already: whoever paused it enables it
        if self._opening is not None:  # a switch before the last pane opened: it takes over
            end_last, paused = self._opening
            end_last(False)
        self._no_switch.clear()
        if gc.isenabled():
            paused = True
            gc.disable()
        polls = round(YIELD_S / READY_POLL_S)
        done = False

        def end(collect: bool) -> None:
            # Once: a tick of the timer already queued can still come after it was stopped.
            nonlocal done
            if done:
                return
            done = True
            self._ready_checks.remove(check)
            timer.stop()
            self._opening = None
            self._no_switch.set()
            if paused and collect:
                gc.enable()

        def check() -> None:
            if self._front_pane_ready():
                end(True)

        def poll() -> None:
            nonlocal polls
            polls -= 1
            if polls <= 0:
                end(True)
            else:
                check()

        timer = self.set_interval(READY_POLL_S, poll, name="pane-opening")
        self._ready_checks.append(check)
        self._opening = (end, paused)

    def _front_pane_ready(self) -> bool:
        stack = self.screen_stack
        return bool(stack and getattr(stack[-1], "ready_to_show", False))

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds every frame for `delay` after a mode switch, so the new screen is not
        seen building itself. A pane ready sooner (built, resumed, its data on it: a later visit
        at once) is shown sooner; other screens, and other holds, keep Textual's."""
        if not self._switching:
            super().delay_update(delay)
            return
        # The hold Textual's delay_update begins, by its public batch_update, released below.
        hold = self.batch_update()
        hold.__enter__()
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._ready_checks.remove(check)
            poll.stop()
            limit.stop()
            hold.__exit__(None, None, None)
            # Textual repaints only once no other hold remains; while one does, this refresh
            # waits with the others for its end. (No screen yet: a mode still being built.)
            if self.screen_stack:
                self.screen.refresh()

        def check() -> None:
            if self._front_pane_ready():
                release()

        poll = self.set_interval(READY_POLL_S, check, name="pane-ready")
        limit = self.set_timer(delay, release, name="delay_update")
        self._ready_checks.insert(0, check)  # the frames first, then the work that waited
