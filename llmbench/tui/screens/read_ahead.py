"""A pane whose first read starts as the pane is built, so that its first frame shows its data.

A thread worker (`PaneScreen.read_in_thread`) starts once the event loop gets to it, which on
the TUI's start is after the app's first frames have been drawn: the pane's data then comes a
frame or more later. A `ReadAheadPane` starts its first `fetch` at once, in a thread of its
own, while Textual builds the screen; by the time the screen is shown that read has mostly
finished, and the data is put on screen before its first frame. Otherwise its worker waits for
the read under way rather than starting another. Every later read is an ordinary one. The
threading rule holds: the read runs off the UI thread and the UI thread only takes its result.
The app builds its first pane before Textual even sets up the terminal (`LLMBenchApp.run`),
so that this read has all of that time too.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future
from typing import TypeVar

from llmbench.tui.screens.base import PaneScreen

T = TypeVar("T")


class ReadAheadPane(PaneScreen[T]):
    """`fetch` must need nothing but the app (its store): it starts before the subclass's
    `__init__` has run past `super().__init__()`."""

    def __init__(self) -> None:
        super().__init__()
        ahead: Future[T] = Future()  # taken by `reload`, on the UI thread only
        self._ahead: Future[T] | None = ahead
        # In this context (Textual's active app is a context variable), as a worker would be.
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(self._read_ahead, ahead), name="llmbench-first-read"
        )
        thread.daemon = True
        thread.start()

    def _read_ahead(self, ahead: Future[T]) -> None:
        try:
            ahead.set_result(self.fetch())
        except BaseException as error:  # raised again by the worker that waits for it
            ahead.set_exception(error)

    def reload(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            super().reload()
        elif self.is_mounted and ahead.done() and ahead.exception() is None:
            self._show_pane(ahead.result())  # read as the screen was built: in its first frame
        else:  # still reading, failed (the worker tells why), or not mounted: a worker waits
            self.read_in_thread(ahead.result, self._show_pane, group="pane")
