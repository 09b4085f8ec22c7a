"""Writing audit records: redacted, queued to the store's single writer, sealed onto the hash
chain inside a BEGIN IMMEDIATE batch with whatever else is queued.

Durability is the caller's choice. "durable" (the default): a call returns once the batch
holding its rows has committed (WAL, synchronous=FULL), so one fsync serves every call that
finished meanwhile (group commit). "async": a call returns once its rows are queued; a crash
can lose the last calls, and a refused write is only seen by flush() and the failure count.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, InvalidStateError, wait
from functools import lru_cache
from typing import Any, Literal, cast, get_args

from llmbench.core.audit.redact import Redactor
from llmbench.gateway.attempt_rows import TAG_COLUMNS
from llmbench.gateway.chain_head import head_keeper
from llmbench.gateway.chain_key import chain_key_for
from llmbench.gateway.keys import PROVIDERS
from llmbench.gateway.media_records import PARTS, redacted_parts, with_parts, write_parts
from llmbench.store.audit.group_append import append_each
from llmbench.store.audit.log import append_in_one_statement
from llmbench.store.db import Store, plain_error

# guard_flags too, for the call's known secrets. Tag values with a column of their own too:
# they stand in the rollups and the breakdowns, so a key passed as a tag must not.
_REDACTED_FIELDS = (
    *("messages", "params", "response", "tool_calls", "error", "tags", "guard_flags"),
    *TAG_COLUMNS,
    "arm",
    # The caller's thread ids (m012) too: a key passed as a session id must not be kept.
    *("conversation_id", "trace_id", "parent_request_id"),
)

Durability = Literal["durable", "async"]
DURABILITIES: tuple[Durability, ...] = get_args(Durability)

RowWrite = Future[list[int]]
Waiter = asyncio.Future[None]
_REFUSALS_KEPT = 64


def durability_of(value: str) -> Durability:
    if value not in DURABILITIES:
        raise ValueError(
            f"durability must be one of {', '.join(map(repr, DURABILITIES))}, not {value!r}"
        )
    return cast(Durability, value)


def configured_secrets() -> list[str]:
    """Every provider key visible in the environment: masked wherever it appears."""
    return [os.environ[spec.env_var] for spec in PROVIDERS.values() if os.environ.get(spec.env_var)]


@lru_cache(maxsize=64)
def _redactor_for(secrets: tuple[str, ...]) -> Redactor:
    """Built once per set of secrets: every call needs one, and the set rarely changes."""
    return Redactor(secrets)


class AuditRecorder:
    def __init__(
        self, store: Store, key: bytes | None = None, *, keep_media_bytes: bool = False
    ) -> None:
        self.store = store
        self.keep_media_bytes = keep_media_bytes
        """Keep the bytes of the parts a request sends ([retention] keep_media_bytes)."""
        self.key = key or chain_key_for(store)
        self.heads = head_keeper(store, self.key)  # the chain's head, recorded beside the key
        self._lock = threading.Lock()
        self._last: RowWrite | None = None
        # Records waiting for the writer job that will append them (queued when the first came).
        self._queued: list[tuple[dict[str, Any], RowWrite]] = []
        # The calls awaiting a record in committed(), by record: woken by _wake().
        self._waiters: dict[RowWrite, list[tuple[asyncio.AbstractEventLoop, Waiter]]] = {}
        # Refused writes no call has raised yet, oldest first: what flush() raises.
        self._refused: deque[tuple[RowWrite, BaseException]] = deque(maxlen=_REFUSALS_KEPT)
        self.failed_writes = 0
        """How many records the store refused (disk full, read-only, I/O error) so far."""

    def redactor(self, extra_secrets: Iterable[str] = ()) -> Redactor:
        return _redactor_for(tuple(sorted({*configured_secrets(), *extra_secrets})))

    def record(self, call: Mapping[str, Any], redactor: Redactor) -> RowWrite:
        """Queue one record; the future settles once its batch has committed (the call ids)
        or was refused. Cancelling that future never cancels the write."""
        clean = with_parts(dict(call), self.keep_media_bytes)
        for name in _REDACTED_FIELDS:
            if isinstance(clean.get(name), str):
                clean[name] = redactor.text(clean[name])
        redacted_parts(clean, redactor)
        settled: RowWrite = Future()
        with self._lock:
            self._queued.append((clean, settled))
            first = len(self._queued) == 1
            self._last = settled
        if first:
            self._submit_queued()
        return settled

    def _submit_queued(self) -> None:
        """One writer job appends every record queued by the time it runs: the records of calls
        that end while the writer commits a batch go into the next one together, sealed in one
        append (~40% less of the writer's time per record than one job each)."""
        taken: list[tuple[dict[str, Any], RowWrite]] = []

        def take() -> list[dict[str, Any]]:
            with self._lock:
                taken.extend(self._queued)
                self._queued.clear()
            return [row for row, _ in taken]

        def job(db: Any) -> list[int | Exception]:
            rows = take()
            ids = append_each(db, self.key, rows)
            write_parts(db, rows, ids)
            return ids

        def in_one_statement(db: Any) -> list[int] | None:
            rows = take()
            if any(PARTS in row for row in rows):  # their parts need a statement more: the job
                return None
            return append_in_one_statement(db, self.key, rows)

        try:
            # Acknowledged at the commit; the writer puts the calls in the search index after.
            written = self.store.submit(job, index_later=True, first_try=in_one_statement)
        except BaseException as error:  # the store is closed: nothing queued can be written
            with self._lock:
                dropped, self._queued = self._queued, []
            for _row, settled in dropped:  # settled, so that flush() never waits on them
                self._refuse(settled, error)
            raise
        written.add_done_callback(functools.partial(self._settle, taken))

    def _settle(self, taken: list[tuple[dict[str, Any], RowWrite]], written: Future[Any]) -> None:
        # On the writer thread, in the order of the writes: the bookkeeping is done before
        # anyone waiting on a record wakes.
        error = written.exception()  # never cancelled: only this recorder holds `written`
        if error is None:
            outcomes: list[int | BaseException] = written.result()
            self.heads.committed()
        else:
            with self._lock:
                if not taken:  # the batch failed before this job ran: its records fail with it
                    taken.extend(self._queued)
                    self._queued.clear()
            outcomes = [error] * len(taken)
        for (_row, settled), outcome in zip(taken, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                self._refuse(settled, plain_error(outcome, self.store.path))
            else:
                with contextlib.suppress(InvalidStateError):  # its caller cancelled the wait
                    settled.set_result([outcome])
        self._wake([settled for _row, settled in taken])

    def _wake(self, rows: list[RowWrite]) -> None:
        """Wake the calls waiting on `rows`: one hand-over per event loop for the whole group
        (each call_soon_threadsafe is a write to the loop's socket, and a wait for the
        interpreter lock on a busy process)."""
        with self._lock:
            waiting = [waiter for row in rows for waiter in self._waiters.pop(row, ())]
        by_loop: dict[asyncio.AbstractEventLoop, list[Waiter]] = {}
        for loop, waiter in waiting:
            by_loop.setdefault(loop, []).append(waiter)
        for loop, waiters in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed meanwhile
                loop.call_soon_threadsafe(_resolve_all, waiters)

    def _refuse(self, settled: RowWrite, error: BaseException) -> None:
        with self._lock:
            self.failed_writes += 1
            self._refused.append((settled, error))
        with contextlib.suppress(InvalidStateError):
            settled.set_exception(error)

    async def committed(self, rows: Sequence[RowWrite]) -> BaseException | None:
        """Wait until every row is committed or refused; the first refusal, if any, which the
        caller now raises (flush() will not raise it again). Waiting never cancels a write: a
        caller cancelled meanwhile still leaves its rows to land."""
        if rows and not rows[-1].done():  # records settle in order: the last one settles last
            loop = asyncio.get_running_loop()
            waiter: Waiter = loop.create_future()
            with self._lock:  # _wake() pops waiters under it, after settling their records
                waits = not rows[-1].done()
                if waits:
                    self._waiters.setdefault(rows[-1], []).append((loop, waiter))
            if waits:
                await waiter
        refusals = [row for row in rows if not row.cancelled() and row.exception() is not None]
        if not refusals:
            return None
        with self._lock:
            kept = [(row, error) for row, error in self._refused if row not in refusals]
            self._refused = deque(kept, maxlen=_REFUSALS_KEPT)
        return refusals[0].exception()

    def flush(self) -> None:
        """Wait until every record queued so far is written, then raise the first refusal no
        call has raised (with durability "async", the only place a refusal shows)."""
        last = self._last
        if last is not None:
            wait([last])  # the writer settles records in order: the last one settles last
            self.heads.flush()
            self.store.index_now()  # and searchable: indexed by the writer after the commit
        with self._lock:
            refused = list(self._refused)
            self._refused.clear()
        if refused:
            raise refused[0][1]


async def finished(future: Future[Any]) -> None:
    """Await a thread's future without wrap_future, which would cancel the write with us."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the caller's loop has closed meanwhile
            loop.call_soon_threadsafe(_resolve, waiter)

    future.add_done_callback(wake)
    await waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _resolve_all(waiters: list[Waiter]) -> None:
    for waiter in waiters:
        _resolve(waiter)
