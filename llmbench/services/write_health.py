"""Whether the database takes writes: what the TUI's banner says for as long as it does not.

Every write of a Store goes through its `submit`; WriteWatch sees each one's outcome there. A
write refused because of the file (read-only, disk full, I/O error) sets the problem; the next
write that lands clears it. A write that fails for its own reason (a rule of the data) changes
nothing. `probe()` tries a write and rolls it back, which a file opened read-only refuses: so
that problem is known before the user's first change. SQLite keeps such a file read-only for
as long as the writer's connection lives, so that problem lasts until llmbench restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from llmbench.store.db import DatabaseReadOnly, Store, StoreError

T = TypeVar("T")

# SQLite's primary result codes that mean the file, not the statement: PERM, READONLY, IOERR,
# CORRUPT, FULL, CANTOPEN, NOTADB (the store turns some of them into StoreErrors already).
_FILE_CODES = frozenset({3, 8, 10, 11, 13, 14, 26})


class _RolledBack(Exception):
    """The probe's write went through; raising undoes it."""


def write_problem(error: BaseException, store: Store) -> str | None:
    """One line saying why the file refused a write, or None when the write failed for a
    reason of its own."""
    if isinstance(error, DatabaseReadOnly):
        return f"{error}; then restart llmbench, which opened it read-only"
    if isinstance(error, StoreError):
        return str(error)
    code = getattr(error, "sqlite_errorcode", None)  # sqlite3.Error's, without importing it
    if isinstance(code, int) and code & 0xFF in _FILE_CODES:
        return (
            f"{store.path}: {error}; check the disk and the file (llmbench db check), or "
            "work on a copy (--db)"
        )
    return None


class WriteWatch:
    """Reports when `store` starts or stops refusing writes: `changed(problem)` with one line,
    or None once writes land again. `changed` may be called from any thread."""

    def __init__(self, store: Store, changed: Callable[[str | None], None]) -> None:
        self.store = store
        self._changed = changed
        self._lock = threading.Lock()
        self.problem: str | None = None
        self._submit = store.submit

    def start(self) -> None:
        # The store has no listener hook: its submit is wrapped, on this one object only.
        self.store.submit = self._watched  # type: ignore[method-assign]

    def stop(self) -> None:
        if self.store.submit == self._watched:
            self.store.submit = self._submit  # type: ignore[method-assign]

    def _watched(self, job: Callable[[Any], T], **options: Any) -> Future[T]:
        future = self._submit(job, **options)
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self._report(None)
        elif (problem := write_problem(error, self.store)) is not None:
            self._report(problem)

    def probe(self) -> None:
        """Try a write and roll it back (blocks: run it in a worker thread)."""

        def attempt(db: Any) -> None:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute(f"PRAGMA user_version = {version}")  # rewrites the header page
            raise _RolledBack

        try:
            future = self._submit(attempt)
        except StoreError:  # closed: the app is exiting
            return
        try:
            future.result()
        except _RolledBack:
            pass  # the file took it
        except Exception as error:
            if (problem := write_problem(error, self.store)) is not None:
                self._report(problem)

    def _report(self, problem: str | None) -> None:
        with self._lock:
            if problem == self.problem:
                return
            self.problem = problem
        self._changed(problem)
