"""Opening llmbench database files: pragmas, identity checks, migrations, and the one writer.

Readers get one connection per thread (`Store.read()`); every write goes through a single writer
thread fed by a queue, which runs each batch in `BEGIN IMMEDIATE` (Datasette's pattern) so a
write never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlite_utils import Database

# sqlite_utils costs ~30 ms to import: it is loaded on first use (migrations, worker threads),
# never on the TUI's start path. A test keeps this list equal to the registered migrations.
KNOWN_MIGRATIONS: tuple[str, ...] = (
    "m001_initial",
    "m002_prompt_versions",
    "m003_cache_kinds_and_routes",
    "m004_daily_rollups",
    "m005_case_checks",
    "m006_guard_policies",
    "m007_informational_checks",
)
MIGRATION_SET = "llmbench"

# 'LLMB' — marks the file as ours so we never migrate somebody else's database.
APPLICATION_ID = 0x4C4C4D42
BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
_WRITE_BATCH = 256

T = TypeVar("T")


class StoreError(Exception):
    """A database file cannot be used; the message says why and what to do."""


class NotAnLLMBenchDatabase(StoreError):
    pass


class DatabaseTooNew(StoreError):
    pass


class DatabaseReadOnly(StoreError):
    """The file (or its folder) cannot be written."""


class DatabaseFull(StoreError):
    """The disk (or the file's size limit) is full; the change was not written."""


def plain_error(error: BaseException, path: Path) -> BaseException:
    """A write that failed because of the file rather than the job, as a StoreError that says
    what happened and what to do; any other error as it was."""
    if not isinstance(error, sqlite3.OperationalError):
        return error
    code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF  # the primary result code
    if code == sqlite3.SQLITE_READONLY:
        return DatabaseReadOnly(
            f"{path} is read-only, so nothing was changed; make the file and its folder "
            "writable, or work on a copy (--db)"
        )
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(
            f"{path} cannot be opened ({error}); the file and its folder must be writable, "
            f"as SQLite keeps {path.name}-wal and {path.name}-shm beside it"
        )
    if code == sqlite3.SQLITE_FULL:
        return DatabaseFull(
            f"{path}: the disk is full, so this change was not written (the database is "
            "unharmed); free some space and try again"
        )
    return error


def _apply_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # An audit log must not lose acknowledged commits on power loss.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Purged bodies must really leave the file.
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA mmap_size = 268435456")


def connect(path: Path) -> Database:
    """A sqlite-utils Database on its own connection, with every pragma set."""
    from sqlite_utils import Database

    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    _apply_pragmas(conn)
    return Database(conn, execute_plugins=False)


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise NotAnLLMBenchDatabase(f"{path} is not an llmbench database (not a SQLite file)")


def _applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET],
    )
    return [row[0] for row in rows]


def _check_identity(conn: sqlite3.Connection, path: Path) -> list[str]:
    """Refuse files that are not ours or are newer than us; return the pending migrations."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if application_id == APPLICATION_ID:
        applied = _applied_migrations(conn)
        unknown = [name for name in applied if name not in KNOWN_MIGRATIONS]
        if unknown:
            raise DatabaseTooNew(
                f"{path} was written by a newer llmbench (schema {unknown[-1]}); "
                "upgrade llmbench to open it"
            )
        return [name for name in KNOWN_MIGRATIONS if name not in applied]
    user_tables = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]
    if application_id != 0 or user_tables:
        raise NotAnLLMBenchDatabase(
            f"{path} is a SQLite database but not an llmbench one; pass another --db path"
        )
    return list(KNOWN_MIGRATIONS)


def migrate(path: Path) -> None:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        _apply_pragmas(conn)
        pending = _check_identity(conn, path)
    finally:
        conn.close()
    if not pending:
        return
    from llmbench.store.schema.migrations import migrations

    db = connect(path)
    try:
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {len(KNOWN_MIGRATIONS)}")
    finally:
        db.close()


class Store:
    """One llmbench database file: per-thread readers and a single queued writer."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[Database] = []
        self._connections_lock = threading.Lock()
        self._queue: queue.Queue[tuple[Callable[[Database], Any], Future[Any]] | None] = (
            queue.Queue()
        )
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._closed = False

    # -- readers ---------------------------------------------------------------------------
    def read(self) -> Database:
        """This thread's connection. Use it for reads; send writes through `write`."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    # -- the writer ------------------------------------------------------------------------
    def submit(self, job: Callable[[Database], T]) -> Future[T]:
        """Queue a write. It runs in the writer thread inside a BEGIN IMMEDIATE batch."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")
        self._ensure_writer()
        future: Future[T] = Future()
        self._queue.put((job, future))
        return future

    def write(self, job: Callable[[Database], T]) -> T:
        """Queue a write and wait for its result (or its exception)."""
        return self.submit(job).result()

    def _ensure_writer(self) -> None:
        with self._writer_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name=f"llmbench-writer:{self.path.name}", daemon=True
                )
                self._writer.start()

    def _write_loop(self) -> None:
        db = connect(self.path)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                batch = [item]
                while len(batch) < _WRITE_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)
                        break
                    batch.append(more)
                self._run_batch(db, batch)
        finally:
            db.close()

    def _run_batch(
        self, db: Database, batch: list[tuple[Callable[[Database], Any], Future[Any]]]
    ) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            for index, (job, future) in enumerate(batch):
                # A job whose caller cancelled it (a torn-down asyncio task awaiting it) does not
                # run; setting a result on its future would raise and end this thread.
                if not future.set_running_or_notify_cancel():
                    continue
                savepoint = f"job_{index}"
                db.conn.execute(f"SAVEPOINT {savepoint}")
                try:
                    outcomes.append((future, True, job(db)))
                except BaseException as error:  # the job failed: undo only its own writes
                    if not db.conn.in_transaction:
                        # SQLite rolled the whole batch back itself (SQLITE_FULL, IOERR...):
                        # no later job may run outside the transaction, none of it landed.
                        raise
                    db.conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    outcomes.append((future, False, plain_error(error, self.path)))
                finally:
                    if db.conn.in_transaction:
                        db.conn.execute(f"RELEASE SAVEPOINT {savepoint}")
            db.conn.execute("COMMIT")
        except BaseException as error:  # BEGIN, COMMIT or the whole batch failed: none landed
            if db.conn.in_transaction:
                db.conn.rollback()
            for _job, future in batch:
                if not future.done():
                    future.set_exception(plain_error(error, self.path))
            return
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_db(path: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open (creating with mode 0600, and migrating) an llmbench database file."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreError(f"{path} does not exist; run `llmbench demo` or pass --db")
        _create_private(path)
    _check_header(path)
    try:
        migrate(path)
    except sqlite3.DatabaseError as error:
        plain = plain_error(error, path)
        if isinstance(plain, StoreError):
            raise plain from None
        raise NotAnLLMBenchDatabase(f"{path} cannot be read as a database: {error}") from None
    return Store(path)
