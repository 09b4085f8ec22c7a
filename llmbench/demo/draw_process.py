"""A large demo on every core: a second process draws the calls, a slice at a time, while this
one writes them (as a large import reads in a second process: services/imports), and with three
cores a third seals them.

Drawing a call (its texts, outcome and the steps over its slice), sealing it (its content hash
and the chain's HMAC) and writing it (the row, then its share of the indexes, rollups and
search index) all hold Python's GIL, so threads cannot overlap them; processes can. A million
calls cost about 70 s of CPU to draw, 40 s to seal and 55 s to write: with three cores each runs
on its own (`task.sealing`); with two, the build seals in the writing process
(build.sealing_apart), as a third process would take the drawing one's core. The sealing process
seals on the chain's end with the ids the build's transaction gave the prompt versions and runs
(`Sealing`) and sends rows ready for `insert_sealed`. The drawing process plans the same story
from the same arguments (plan is deterministic), so its calls are what `CallStream.chunks`
would have made here; the write transaction stays in this process. A failure in any process
rolls the whole build back, and a stop (the progress callback raising) ends the others.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from llmbench.core.progress import LatestProgress
from llmbench.demo import content as demo_content
from llmbench.demo import media_call, optimize_demo
from llmbench.demo.heap import release_free_memory
from llmbench.demo.records import Progress, VersionRef
from llmbench.store.audit.log import SealPoint, seal_calls
from llmbench.store.consistency import ConsistencyDay

Row = dict[str, Any]
# Calls per message on a pipe: a slice goes as ('part', rows) messages and a last ('rows', ...)
# so that the pickle of a whole slice (about 1 KB a call: 25 MB at 25,000) is never held
# beside its calls, by the process sending it or the one receiving it (issue #21).
PIECE_ROWS = 2_500


class DrawProcessError(RuntimeError):
    """The drawing (or sealing) process failed or stopped; nothing was written."""


@dataclass(frozen=True)
class Sealing:
    """How the calls are sealed onto the build's chain: its key and its end (the transaction
    appends nothing else to `calls`), the ids of the prompt versions and runs the calls name,
    and the calls the build drew itself, merged in time order (optimize_demo.interleave)."""

    key: bytes
    head: SealPoint
    version_ids: dict[VersionRef, int]
    run_ids: dict[str, int]
    extra: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class SealedSlice:
    """A slice's calls sealed, as `insert_sealed` takes them, with what the build needs of
    them afterwards: the call ids of the runs' calls (by request id) and the calls carrying
    media parts (written once their calls are in)."""

    rows: list[tuple[Any, ...]]
    run_calls: dict[str, int]
    parts: list[Row]


def sealed_slices(chunks: Iterable[list[Row]], sealing: Sealing) -> Iterator[SealedSlice]:
    """Each chunk of calls (in time order, chunks in turn) with the extra calls merged in,
    sealed onto the chain from its end, the ids they will get ascending from it. A slice's
    lists are emptied when the next is asked for (`released`): the consumer is done with it."""
    point = sealing.head
    for rows in optimize_demo.interleave(released(chunks), sealing.extra):
        run_calls: dict[str, int] = {}
        for call_id, row in enumerate(rows, point.last_id + 1):
            reference, run = row["prompt_version"], row["run"]
            row["prompt_version_id"] = None if reference is None else sealing.version_ids[reference]
            row["run_id"] = None if run is None else sealing.run_ids[run]
            if run is not None:
                run_calls[row["request_id"]] = call_id
        sealed, point = seal_calls(sealing.key, point, rows)
        yield SealedSlice(sealed, run_calls, [row for row in rows if media_call.PARTS in row])
        rows.clear()
        sealed.clear()


def released(chunks: Iterable[list[Row]]) -> Iterator[list[Row]]:
    """The chunks, each emptied when the next is asked for. The generators a slice passes
    through (the stream's, the merge's) keep their last one in a variable until the next
    arrives: without this, the previous slice's calls (about 3 KB each: 75 MB at 25,000) are
    held while the next is drawn or received, and the heap holds two slices' texts, not one."""
    for rows in chunks:
        yield rows
        rows.clear()


@dataclass(frozen=True)
class DrawTask:
    seed: int
    calls: int
    days: int
    now: datetime
    slice_calls: int
    sealing: Sealing | None = None  # None: the slices are sent as drawn


def draw(task: DrawTask, pipe: Connection) -> None:
    """The drawing process: send ('rows', rows, progress) per slice (its first rows ahead in
    ('part', rows) messages: send_in_parts), then ('days', days), or ('failed', message)."""
    progress = LatestProgress()
    try:
        _content, stream = demo_content.plan(
            task.seed, task.calls, task.days, task.now, progress, task.slice_calls
        )
        for rows in released(stream.chunks()):
            pipe.send(("rows", send_in_parts(pipe, rows), progress.seen))
            del rows  # sent: not held while the next slice is drawn
            release_free_memory()
        pipe.send(("days", stream.consistency.finish()))
    except (BrokenPipeError, EOFError):  # the writer stopped: its transaction rolls back
        pass
    except Exception as error:  # everything else is reported, so the writer can say why
        pipe.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        pipe.close()


def seal(sealing: Sealing, drawn: Connection, pipe: Connection) -> None:
    """The sealing process: the slices the drawing process sends on `drawn`, sealed
    (SealedSlice) and passed on to `pipe` with its progress, then its last word ('days' or
    'failed') as it came."""
    end: list[tuple[Any, ...]] = []
    progress: list[tuple[int, int]] = [(0, 0)]

    def slices() -> Iterator[list[Row]]:
        while True:
            message = receive_whole(drawn)
            if message[0] != "rows":
                end.append(message)
                return
            progress[0] = message[2]
            yield message[1]
            del message

    try:
        for piece in sealed_slices(slices(), sealing):
            pipe.send(("rows", replace(piece, rows=send_in_parts(pipe, piece.rows)), progress[0]))
            del piece  # sent: not held while the next slice is sealed
            release_free_memory()
        pipe.send(end[0])
    except (BrokenPipeError, EOFError):  # the writer stopped, or the drawing process died
        pass
    except Exception as error:  # everything else is reported, so the writer can say why
        pipe.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        drawn.close()
        pipe.close()


def send_in_parts(pipe: Connection, rows: list[Any]) -> list[Any]:
    """Send all but the last PIECE_ROWS (or fewer) of `rows` as ('part', rows) messages; the
    rest, for the slice's last message."""
    last = (max(0, len(rows) - 1) // PIECE_ROWS) * PIECE_ROWS
    for start in range(0, last, PIECE_ROWS):
        pipe.send(("part", rows[start : start + PIECE_ROWS]))
    return rows[last:]


def receive_whole(pipe: Connection) -> tuple[Any, ...]:
    """The next message, with the parts sent before a slice's last message joined onto it
    (its rows, or its SealedSlice's)."""
    parts: list[Any] = []
    while (message := pipe.recv())[0] == "part":
        parts += message[1]
        del message
    if not parts or message[0] != "rows":
        return message  # a failure's message drops the slice's parts with it
    kind, last, progress = message
    del message
    if isinstance(last, SealedSlice):
        parts += last.rows
        return kind, replace(last, rows=parts), progress
    parts += last
    return kind, parts, progress


class DrawnElsewhere:
    """The calls of `task` drawn by a second process, slice by slice, in time order; then the
    consistency days it measured (`days`). With `task.sealing`, a third process seals them
    (SealedSlice): drawing, sealing and writing a million calls each cost a share of the build
    that two cores run side by side only when no process does more than half. Use it as a
    context manager: leaving ends the processes."""

    def __init__(self, task: DrawTask, progress: Progress | None = None) -> None:
        self.task, self.progress = task, progress
        self.days: list[ConsistencyDay] = []
        _start_resource_tracker()
        # spawn, not fork: this process has threads (the writer, maybe the TUI's), which fork
        # would copy in whatever state they are.
        context = multiprocessing.get_context("spawn")
        self.ours, theirs = context.Pipe(duplex=False)
        self.sealer: multiprocessing.process.BaseProcess | None = None
        if task.sealing is None:
            drawn = theirs
        else:
            sealed_in, drawn = context.Pipe(duplex=False)
            self.sealer = context.Process(
                target=seal,
                args=(task.sealing, sealed_in, theirs),
                name="llmbench-demo-seal",
                daemon=True,
            )
        self.process = context.Process(
            target=draw,
            args=(replace(task, sealing=None), drawn),
            name="llmbench-demo",
            daemon=True,
        )
        self.process.start()
        drawn.close()
        if self.sealer is not None:
            self.sealer.start()
            sealed_in.close()
            theirs.close()

    def __enter__(self) -> DrawnElsewhere:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.ours.close()
        for process in (self.sealer, self.process):
            if process is None:
                continue
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    def chunks(self) -> Iterator[Any]:
        """What the drawing (or sealing) process sends, slice by slice: SealedSlice with a
        `sealing`, else the slices' rows."""
        while True:
            try:
                message = receive_whole(self.ours)
            except EOFError:
                last = self.sealer or self.process
                last.join(timeout=5)
                raise DrawProcessError(
                    f"the process {'sealing' if self.sealer else 'drawing'} the demo's calls"
                    f" stopped (exit code {last.exitcode}); nothing was written"
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
