"""A large demo on both cores: a second process draws the calls, a slice at a time, while this
one seals and writes them (as a large import reads in a second process: services/imports).

Drawing a call (its texts, outcome and the steps over its slice) and sealing and writing it
(the chain's HMAC, the row, then its share of the indexes, rollups and search index) each take
about half of a build's CPU time, and both hold Python's GIL, so threads cannot overlap them;
processes can. The drawing process plans the same story from the same arguments (plan is
deterministic), so what it sends is what `CallStream.chunks` would have made here; the write
transaction stays in this process's writer. A failure in either process rolls the whole build
back, and a stop (the progress callback raising) ends the drawing process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from llmbench.core.progress import LatestProgress
from llmbench.demo import content as demo_content
from llmbench.demo.records import Progress
from llmbench.store.consistency import ConsistencyDay

Row = dict[str, Any]


class DrawProcessError(RuntimeError):
    """The drawing process failed or stopped; nothing was written."""


@dataclass(frozen=True)
class DrawTask:
    seed: int
    calls: int
    days: int
    now: datetime
    slice_calls: int


def draw(task: DrawTask, pipe: Connection) -> None:
    """The drawing process: send ('rows', rows, progress) per slice, then ('days', days), or
    ('failed', message)."""
    progress = LatestProgress()
    try:
        _content, stream = demo_content.plan(
            task.seed, task.calls, task.days, task.now, progress, task.slice_calls
        )
        for rows in stream.chunks():
            pipe.send(("rows", rows, progress.seen))
        pipe.send(("days", stream.consistency.finish()))
    except (BrokenPipeError, EOFError):  # the writer stopped: its transaction rolls back
        pass
    except Exception as error:  # everything else is reported, so the writer can say why
        pipe.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        pipe.close()


class DrawnElsewhere:
    """The calls of `task` drawn by a second process, slice by slice, in time order; then the
    consistency days it measured (`days`). Use it as a context manager: leaving ends the
    process."""

    def __init__(self, task: DrawTask, progress: Progress | None = None) -> None:
        self.task, self.progress = task, progress
        self.days: list[ConsistencyDay] = []
        _start_resource_tracker()
        # spawn, not fork: this process has threads (the writer, maybe the TUI's), which fork
        # would copy in whatever state they are.
        context = multiprocessing.get_context("spawn")
        self.ours, theirs = context.Pipe(duplex=False)
        self.process = context.Process(
            target=draw, args=(task, theirs), name="llmbench-demo", daemon=True
        )
        self.process.start()
        theirs.close()

    def __enter__(self) -> DrawnElsewhere:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.ours.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def chunks(self) -> Iterator[list[Row]]:
        while True:
            try:
                message = self.ours.recv()
            except EOFError:
                self.process.join(timeout=5)
                raise DrawProcessError(
                    f"the process drawing the demo's calls stopped (exit code "
                    f"{self.process.exitcode}); nothing was written"
                ) from None
            if message[0] == "rows":
                _kind, rows, progress = message
                del message  # only the consumer keeps a slice: never two while the next comes
                if self.progress:
                    self.progress(*progress)
                yield rows
                del rows
            elif message[0] == "days":
                self.days = message[1]
                return
            else:
                raise DrawProcessError(f"drawing the demo's calls failed: {message[1]}")


def _start_resource_tracker() -> None:
    """A spawned process needs multiprocessing's resource tracker, whose start hands it
    sys.stderr's descriptor; inside a Textual app (the TUI builds the demo) that is the app's
    capture, descriptor -1, and the start fails ("bad value(s) in fds_to_keep"). Started here
    with stderr on the null device, as services/imports does for a large import."""
    from multiprocessing import resource_tracker

    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        resource_tracker.ensure_running()
