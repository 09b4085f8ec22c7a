"""A large import on both cores: a second process reads, prices and seals the calls while this
one writes them.

Writing a call (the row, eleven indexes, full-text and the daily rollups) and preparing it
(parsing, pricing, hashing onto the chain) each take about half of an import's time, and both
hold Python's GIL most of that time, so threads cannot overlap them; processes can. The write
transaction stays in this process's writer, as for every other write: the reader process only
reads the source and the committed log (to skip calls already in it) and sends sealed rows over
a pipe. It learns the chain head from the writer's transaction, so its hashes continue the
chain exactly where the import's rows land. Any problem, in the source or in either process,
rolls the whole transaction back: nothing is written.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.core.progress import LatestProgress
from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import chain_key_for
from llmbench.importers.calls.common import CallImportError
from llmbench.services.imports.preparation import (
    ImportOutcome,
    ImportTally,
    Progress,
    call_items,
    dated_prices,
    sealed_chunks,
)
from llmbench.store.audit.bulk_index import full_text_in_one_pass
from llmbench.store.audit.log import chain_head, insert_sealed
from llmbench.store.db import Store, connect

if TYPE_CHECKING:
    from llmbench.store.db import Database


class ImportProcessError(RuntimeError):
    """The reading process failed or stopped; nothing was written."""


@dataclass(frozen=True)
class ReaderTask:
    kind: str
    source: Path
    mapping: dict[str, str] | None
    database: Path
    key: bytes
    head: tuple[int, str]


def read_and_seal(task: ReaderTask, pipe: Connection) -> None:
    """The reading process: send ('rows', rows, progress) per chunk, then ('done', tally,
    progress), ('problems', problems) or ('failed', message)."""
    progress = LatestProgress()
    tally = ImportTally()
    try:
        reader = connect(task.database)
        try:
            chunks = sealed_chunks(
                call_items(task.kind, task.source, task.mapping, progress),
                log=reader,
                prices=dated_prices(reader),
                key=task.key,
                head=task.head,
                tally=tally,
            )
            for rows in chunks:
                pipe.send(("rows", rows, progress.seen))
        finally:
            reader.close()
        pipe.send(("done", tally, progress.seen))
    except CallImportError as error:
        pipe.send(("problems", error.problems))
    except (BrokenPipeError, EOFError):  # the writer stopped: its transaction rolls back
        pass
    except Exception as error:  # everything else is reported, so the writer can say why
        pipe.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        pipe.close()


def import_in_two_processes(
    store: Store,
    kind: str,
    path: Path,
    mapping: dict[str, str] | None,
    progress: Progress | None,
) -> ImportOutcome:
    """Import `path` in one transaction of `store`'s writer, prepared by a reading process."""
    key = chain_key_for(store)

    def write(db: Database) -> ImportTally:
        task = ReaderTask(kind, path, mapping, store.path, key, chain_head(db))
        # spawn, not fork: this process has threads (the writer, the TUI's), which fork would
        # copy in whatever state they are.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=False)
        reader = context.Process(
            target=read_and_seal, args=(task, theirs), name="llmbench-import", daemon=True
        )
        reader.start()
        theirs.close()
        try:
            with full_text_in_one_pass(db):
                return _write_what_is_sent(db, ours, reader, path, progress)
        finally:
            ours.close()
            reader.join(timeout=5)
            if reader.is_alive():
                reader.kill()
                reader.join()

    tally = store.write(write)
    record_head(store, key)
    return tally.outcome(str(path))


def _write_what_is_sent(
    db: Database,
    ours: Connection,
    reader: multiprocessing.process.BaseProcess,
    path: Path,
    progress: Progress | None,
) -> ImportTally:
    while True:
        try:
            message = ours.recv()
        except EOFError:
            reader.join(timeout=5)
            raise ImportProcessError(
                f"the process reading {path.name} stopped (exit code "
                f"{reader.exitcode}); nothing was written"
            ) from None
        if message[0] == "rows":
            insert_sealed(db, message[1])
            if progress:
                progress(*message[2])
            continue
        if message[0] == "done":
            if progress:
                progress(*message[2])
            return message[1]
        if message[0] == "problems":
            raise CallImportError(message[1])
        raise ImportProcessError(f"reading {path.name} failed: {message[1]}")
