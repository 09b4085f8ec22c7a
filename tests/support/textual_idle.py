"""A Pilot wait that ends when the app has nothing left to do, instead of when the process looks
idle.

Textual's `wait_for_idle` (behind every `pilot.press` and `pilot.pause`) sleeps in 20 ms probes
until the process spends less CPU than wall time. Under the load of a parallel suite that
reading is noisy (a busy neighbour makes us look idle; our own worker threads make us look
busy), and every key press pays at least one probe. Here the app is idle when no message pump
has a message queued and no handler is running: exactly what a pressed key needs before the
test looks at the screen. Work in threads is not covered, as it was not before: tests wait for
their workers explicitly (see `settle` in tests/tui/conftest.py).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

from textual import app as textual_app
from textual import pilot as textual_pilot
from textual.message import Message
from textual.message_pump import MessagePump

POLL_S = 0.001
IDLE_CHECKS = 2  # consecutive idle readings, a poll apart: a handler may post as it returns

_pumps: weakref.WeakSet[MessagePump] = weakref.WeakSet()
_dispatching = 0


def _is_idle() -> bool:
    if _dispatching:
        return False
    return all(pump._message_queue.empty() for pump in list(_pumps))


async def wait_until_no_messages(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    """Drop-in for `textual._wait.wait_for_idle`, with the same meaning of its arguments."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    idle_readings = 0
    while True:
        await asyncio.sleep(POLL_S)
        elapsed = loop.time() - start
        idle_readings = idle_readings + 1 if _is_idle() else 0
        if elapsed >= max_sleep or (idle_readings >= IDLE_CHECKS and elapsed >= min_sleep):
            return


def install() -> None:
    """Track every pump's queue and every dispatch, and make Pilot and the app wait on them."""
    global _installed
    if _installed:
        return
    _installed = True
    original_queue: Callable[[MessagePump], Any] = MessagePump.__dict__["_message_queue"].func

    def registering_queue(pump: MessagePump) -> Any:
        _pumps.add(pump)
        return original_queue(pump)

    queue_property = cached_property(registering_queue)
    queue_property.__set_name__(MessagePump, "_message_queue")
    MessagePump._message_queue = queue_property  # type: ignore[assignment]

    original_dispatch: Callable[[MessagePump, Message], Awaitable[None]]
    original_dispatch = MessagePump._dispatch_message

    async def counted_dispatch(pump: MessagePump, message: Message) -> None:
        global _dispatching
        _dispatching += 1
        try:
            await original_dispatch(pump, message)
        finally:
            _dispatching -= 1

    MessagePump._dispatch_message = counted_dispatch  # type: ignore[method-assign]
    textual_app.wait_for_idle = wait_until_no_messages  # type: ignore[attr-defined]
    textual_pilot.wait_for_idle = wait_until_no_messages  # type: ignore[attr-defined]


_installed = False
