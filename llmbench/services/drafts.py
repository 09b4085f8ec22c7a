"""Keeping what is being typed: the TUI hands each draft to a DraftKeeper as it changes, and the
keeper writes the newest version of each one to the `drafts` table once typing pauses, through
the store's writer thread, so a keystroke never waits on SQLite and quitting (or a crash) loses
at most the last pause's worth of typing. Saving the work for real deletes its draft.

Keys name what a draft belongs to: `editor_key(prompt_id)`, `grade_key(...)` for a grade in
progress (its scores, verdict and note), `dialog:<name>` for a dialog's fields.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from llmbench.store import drafts as drafts_repo
from llmbench.store.db import Store, StoreError
from llmbench.store.drafts import DraftKind, StoredDraft

DEBOUNCE_S = 0.4
"""Quiet time after the last change before a draft is written: typing writes ~2 rows a second
at most, whatever the typing speed."""


def editor_key(prompt_id: int) -> str:
    return f"editor:{prompt_id}"


def grade_prefix(rubric_id: int, mode: str, reviewer: str) -> str:
    return f"grade:{rubric_id}:{mode}:{reviewer}:"


def grade_key(rubric_id: int, mode: str, reviewer: str, item_key: str) -> str:
    """A grade in progress on one item ("result:12", "call:7") of one reviewer's queue."""
    return grade_prefix(rubric_id, mode, reviewer) + item_key


_Pending = tuple[DraftKind, dict[str, Any]] | None  # None: the draft is being deleted


class DraftKeeper:
    """The drafts of one store, written after `delay_s` of quiet per key. Every method returns
    at once and may be called from any thread; `flush()` hands everything waiting to the
    writer now (the app does on quit) and returns the writes' futures."""

    def __init__(
        self,
        store: Store,
        *,
        delay_s: float = DEBOUNCE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.delay_s = delay_s
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[_Pending, float]] = {}  # key -> (body, due time)
        self._in_flight: dict[str, tuple[_Pending, Future[Any]]] = {}
        self._timer: threading.Timer | None = None
        self._closed = False

    # -- changes ---------------------------------------------------------------------------

    def put(self, key: str, kind: DraftKind, body: Mapping[str, Any]) -> None:
        """The newest text of `key`; written once nothing has changed for `delay_s`."""
        self._wait(key, (kind, dict(body)))

    def keep_now(self, key: str, kind: DraftKind, body: Mapping[str, Any]) -> Future[Any] | None:
        """Write this draft without waiting for a pause (a note just confirmed)."""
        self._wait(key, (kind, dict(body)))
        futures = self.flush(key)
        return futures[0] if futures else None

    def discard(self, key: str) -> Future[Any] | None:
        """The work was saved or thrown away: delete its draft (after any write queued)."""
        self._wait(key, None)
        futures = self.flush(key)
        return futures[0] if futures else None

    def forget(self, key: str) -> None:
        """Drop what waits for `key` without writing it: the caller deletes the row itself, in
        the same writer job as the work it became (a grade and its note)."""
        with self._lock:
            self._waiting.pop(key, None)

    def flush(self, key: str | None = None) -> list[Future[Any]]:
        """Hand the waiting drafts (or only `key`'s) to the writer now."""
        with self._lock:
            keys = list(self._waiting) if key is None else [k for k in (key,) if k in self._waiting]
            taken = [(k, self._waiting.pop(k)[0]) for k in keys]
        return [future for k, body in taken if (future := self._submit(k, body)) is not None]

    def close(self) -> list[Future[Any]]:
        """Flush and stop the timer; later changes are written at once. Returns every write
        not yet done, those handed over before (a dialog's own flush on quit) too, so that
        whoever waits on them knows every draft is in the file."""
        flushed = self.flush()
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            in_flight = [future for _, future in self._in_flight.values()]
        return [*flushed, *(future for future in in_flight if future not in flushed)]

    # -- reading ---------------------------------------------------------------------------

    def read(self, key: str) -> StoredDraft | None:
        """The draft as last handed over, whether or not it has reached the file yet. Reads
        SQLite when nothing is waiting: call it from a worker thread."""
        with self._lock:
            if key in self._waiting:
                return _as_stored(key, self._waiting[key][0])
            if key in self._in_flight:
                return _as_stored(key, self._in_flight[key][0])
        return drafts_repo.get_draft(self.store.read(), key)

    def read_under(self, prefix: str) -> list[StoredDraft]:
        """Every draft whose key starts with `prefix` (from a worker thread)."""
        found = {draft.key: draft for draft in drafts_repo.drafts_under(self.store.read(), prefix)}
        with self._lock:
            newer = {**{k: v[0] for k, v in self._in_flight.items()}}
            newer.update({k: v[0] for k, v in self._waiting.items()})
        for key, body in newer.items():
            if key.startswith(prefix):
                stored = _as_stored(key, body)
                if stored is None:
                    found.pop(key, None)
                else:
                    found[key] = stored
        return list(found.values())

    # -- inner workings --------------------------------------------------------------------

    def _wait(self, key: str, body: _Pending) -> None:
        with self._lock:
            self._waiting[key] = (body, self._clock() + self.delay_s)
            if self._timer is None and not self._closed:
                self._schedule(self.delay_s)
        if self._closed:
            self.flush(key)

    def _schedule(self, delay: float) -> None:
        # Under the lock. One timer thread at a time, however many keys wait.
        self._timer = threading.Timer(max(delay, 0.01), self._due)
        self._timer.daemon = True
        self._timer.start()

    def _due(self) -> None:
        now = self._clock()
        with self._lock:
            self._timer = None
            ready = [key for key, (_, due) in self._waiting.items() if due <= now]
            taken = [(key, self._waiting.pop(key)[0]) for key in ready]
            if self._waiting and not self._closed:
                self._schedule(min(due for _, due in self._waiting.values()) - now)
        for key, body in taken:
            self._submit(key, body)

    def _submit(self, key: str, body: _Pending) -> Future[Any] | None:
        def job(db: Any) -> None:
            if body is None:
                drafts_repo.delete_draft(db, key)
            else:
                drafts_repo.save_draft(db, key, body[0], body[1])

        try:
            future = self.store.submit(job)
        except StoreError:  # the store is closed: the app is gone
            return None
        with self._lock:
            self._in_flight[key] = (body, future)
        future.add_done_callback(lambda done: self._landed(key, done))
        return future

    def _landed(self, key: str, future: Future[Any]) -> None:
        # A failed write (a read-only file) is the banner's to tell; the draft stays readable
        # from memory only while it is in flight, as the file never got it.
        with self._lock:
            if key in self._in_flight and self._in_flight[key][1] is future:
                del self._in_flight[key]


def _as_stored(key: str, body: _Pending) -> StoredDraft | None:
    if body is None:
        return None
    kind, fields = body
    return StoredDraft(key, kind, dict(fields), "")


def delete_with(key: str) -> Callable[[Any], None]:
    """A writer-job step deleting `key`'s draft, for a service that saves the work itself and
    removes its draft in the same transaction."""
    return lambda db: drafts_repo.delete_draft(db, key)
