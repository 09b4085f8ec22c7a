"""One event loop in a daemon thread, for synchronous callers of the async gateway.

A fresh loop per call (asyncio.run) would strand the async HTTP clients litellm caches on the
loop they were made in; this one loop lives as long as the process, and at exit finishes the
gateway's background work on it before stopping.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    """The loop, started on first use. `finish` makes the coroutine that finishes the
    gateway's background work (litellm's callbacks) before the loop closes."""

    def __init__(self, finish: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._finish = finish
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="llmbench-gateway", daemon=True
                ).start()
                atexit.register(self._close)
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result()

    def finish_background_work(self) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._finish(), loop).result(timeout=15)

    def _close(self) -> None:
        """At exit: finish litellm's callbacks on this loop, cancel what is left (as
        asyncio.run does), then stop it."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        with contextlib.suppress(Exception):
            self.finish_background_work()
            asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)


async def _cancel_other_tasks() -> None:
    # Whatever litellm still runs here (callback tasks) is cancelled, as asyncio.run() does,
    # rather than destroyed pending at interpreter exit.
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
