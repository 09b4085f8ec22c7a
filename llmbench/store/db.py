"""Opening llmbench database files: pragmas, identity checks, migrations, and the one writer.

Readers get one connection per thread (`Store.read()`, or as a plain sqlite3 connection
`Store.connection()`, which needs no sqlite_utils: the TUI's first read uses it); every write goes
through a single writer thread fed by a queue, which runs each batch in `BEGIN IMMEDIATE`
(Datasette's pattern) so a write never fails half-way on a lock upgrade.

A new file is created and migrated under SQLite's write lock, so processes that start together
on a missing database wait for the first to finish rather than migrate it twice. A file that
cannot be written (or whose folder cannot hold its -wal and -shm: read-only media, an archive)
is opened read-only, `immutable` when no -wal is beside it, so nothing is left beside it;
its reads work and its writes raise DatabaseReadOnly.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from llmbench.store.audit.search_index import has_pending, index_pending
from llmbench.store.batches import IndexBehind, Queued, run_batch
from llmbench.store.interrupts import ReadsInFlight

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
    "m008_chain_forms_and_purge_records",
    "m009_search_index_kept_by_the_writer",
    "m010_drafts",
    "m011_tool_calls",
    "m012_conversations",
    "m013_tool_calls_in_results_and_search",
    "m014_reasoning_and_cache_write_tokens",
    "m015_media_parts",
    "m016_production_quality",
    "m017_cacheable_sections",
    "m018_case_params",
    "m019_optimizations",
    "m020_version_figures",
    "m021_cache_policies",
)
MIGRATION_SET = "llmbench"

# 'LLMB' — marks the file as ours so we never migrate somebody else's database.
APPLICATION_ID = 0x4C4C4D42
BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
_WRITE_BATCH = 256
CACHE_KIB = 16_384
MMAP_BYTES = 0x7FFF0000  # SQLITE_MAX_MMAP_SIZE's default: a larger value is cut to it
CLOSE_WAIT_S = 2.0  # the longest `Store.close` waits for the reads it stopped to end

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


class DatabaseDamaged(StoreError):
    """SQLite found the file's pages damaged (or could not read them from the disk)."""


def damaged_error(error: BaseException, path: Path | None = None) -> StoreError | None:
    """A StoreError saying the file is damaged or unreadable, for SQLite's corruption and I/O
    errors met while reading or writing; None for any other error."""
    if not isinstance(error, sqlite3.DatabaseError):
        return None
    code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
    where = f"{path} " if path else "the database file "
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return DatabaseDamaged(
            f"{where}is damaged ({error}): `llmbench db check` says where; restore it from a "
            "backup, or save what SQLite can still read with `sqlite3 FILE .recover`"
        )
    if code == sqlite3.SQLITE_IOERR:
        return DatabaseDamaged(
            f"{where}could not be read or written ({error}): check the disk it is on"
        )
    return None


def plain_error(error: BaseException, path: Path) -> BaseException:
    """A write that failed because of the file rather than the job, as a StoreError that says
    what happened and what to do; any other error as it was."""
    if not isinstance(error, sqlite3.OperationalError):
        return damaged_error(error, path) or error
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
    return damaged_error(error, path) or error


def _enter_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (a no-op once it is). On a new file another process may be
    switching it at the same moment, and SQLite then answers SQLITE_BUSY at once instead of
    waiting: wait here, as the busy timeout would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
            if code != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _apply_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _enter_wal(conn)
    # An audit log must not lose acknowledged commits on power loss.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Purged bodies must really leave the file.
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    _apply_memory_pragmas(conn)


def _apply_memory_pragmas(conn: sqlite3.Connection) -> None:
    # A page cache per thread's connection (16 pool threads): small, the file read through a
    # memory map instead (the OS's shared pages). 64 MB caches held 309 MB on F6 at 1M calls.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


def _apply_read_pragmas(conn: sqlite3.Connection) -> None:
    """A read-only connection's: the journal mode is the file's, and cannot change here."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    _apply_memory_pragmas(conn)


def read_only_uri(path: Path) -> str:
    """The URI that opens `path` for reading only. Without a -wal beside it, the file is opened
    `immutable`: SQLite then needs no -shm either (a read-only folder could not hold one) and
    leaves nothing behind; it reads a file nobody may write as it is. With a -wal (the writer
    is running, or stopped without a checkpoint), the -wal's commits are read too."""
    uri = path.absolute().as_uri() + "?mode=ro"
    wal = path.with_name(path.name + "-wal")
    return uri if wal.exists() else uri + "&immutable=1"


def _sqlite_connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    timeout = BUSY_TIMEOUT_MS / 1000
    if read_only:
        conn = sqlite3.connect(
            read_only_uri(path), uri=True, check_same_thread=False, timeout=timeout
        )
        _apply_read_pragmas(conn)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=timeout)
        _apply_pragmas(conn)
    return conn


def connect(path: Path, *, read_only: bool = False) -> Database:
    """A sqlite-utils Database on its own connection, with every pragma set; with `read_only`,
    opened for reading (read_only_uri)."""
    from sqlite_utils import Database

    return Database(_sqlite_connect(path, read_only=read_only), execute_plugins=False)


def writable(path: Path) -> bool:
    """Whether this process may write the file and create its -wal and -shm beside it (False
    on read-only media, for a file or folder without write permission or marked immutable)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new data folder is private
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


def migrate(path: Path, *, read_only: bool = False) -> None:
    """Check the file is ours and bring its schema up to date, all in one transaction under
    SQLite's write lock: a process that starts while another creates or migrates the file
    waits for it (up to the busy timeout), then finds nothing left to do."""
    conn = _sqlite_connect(path, read_only=read_only)  # sqlite_utils only if there is work
    try:
        pending = _check_identity(conn, path)
        # Calls a killed writer had committed but not indexed yet are indexed here.
        if not pending and (read_only or not has_pending(conn)):
            return
        if read_only:
            raise DatabaseReadOnly(
                f"{path} needs this llmbench's schema ({', '.join(pending)}) and cannot be "
                "written here: open it once where it can be, or work on a writable copy (--db)"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Looked at again under the lock: another process may have migrated meanwhile.
            if _check_identity(conn, path):
                _apply_migrations(conn)
            index_pending(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
    finally:
        conn.close()


def _apply_migrations(conn: sqlite3.Connection) -> None:
    from sqlite_utils import Database

    from llmbench.store.schema.migrations import migrations

    db = Database(conn, execute_plugins=False)
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {len(KNOWN_MIGRATIONS)}")


def _nothing(_db: Database) -> None:
    """A job that writes nothing: its batch still indexes the calls left unindexed."""


class Store:
    """One llmbench database file: per-thread readers and a single queued writer."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        # Opened for reading only (open_db decides): every connection, the writer's included,
        # so a write fails with SQLITE_READONLY, which plain_error words as DatabaseReadOnly.
        self.read_only = read_only
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._queue: queue.Queue[Queued | None] = queue.Queue()  # None: the writer stops
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._closed = False
        self.reads_in_flight = ReadsInFlight()

    # -- readers ---------------------------------------------------------------------------
    def read(self) -> Database:
        """This thread's connection, as a sqlite_utils Database. Use it for reads; send writes
        through `write`."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            from sqlite_utils import Database

            db = Database(self.connection(), execute_plugins=False)
            self._local.db = db
        return db

    def connection(self) -> sqlite3.Connection:
        """This thread's connection as plain sqlite3 (the one `read()` wraps): for reads that
        only execute SQL, which then do not wait for sqlite_utils' import (~30 ms), as the
        TUI's first read does not."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _sqlite_connect(self.path, read_only=self.read_only)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    # -- the writer ------------------------------------------------------------------------
    def submit(
        self,
        job: Callable[[Database], T],
        *,
        index_later: bool = False,
        first_try: Callable[[Database], T | None] | None = None,
    ) -> Future[T]:
        """Queue a write. It runs in the writer thread inside a BEGIN IMMEDIATE batch; its
        future settles once the batch has committed, with the calls it appended in the search
        index by then. With `index_later` (the gateway's records), a batch of such jobs only
        commits before settling them, and the writer indexes their calls in a transaction of
        its own afterwards (`store.batches.IndexBehind`). Such a job may offer a `first_try`:
        one statement, run outside any transaction when the job is alone in its batch, that
        lands whole or returns None (see `store.batches`)."""
        if self._closed:
            raise StoreError(f"{self.path} is closed")
        self._ensure_writer()
        future: Future[T] = Future()
        self._queue.put(Queued(job, future, index_later, first_try))
        return future

    def write(self, job: Callable[[Database], T]) -> T:
        """Queue a write and wait for its result (or its exception)."""
        return self.submit(job).result()

    def index_now(self) -> bool:
        """Wait until every call committed so far is in the search index (`index_later`
        batches leave theirs for the writer to index just after): an ordinary batch indexes
        them in its commit. False when it could not (a file that refuses writes; the next
        open indexes them)."""
        if self.read_only or self._writer is None:
            return not self.read_only
        try:
            self.write(_nothing)
        except Exception:  # derived data: never a reason for the caller's flush to fail
            return False
        return True

    def _ensure_writer(self) -> None:
        with self._writer_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name=f"llmbench-writer:{self.path.name}", daemon=True
                )
                self._writer.start()

    def _write_loop(self) -> None:
        db = connect(self.path, read_only=self.read_only)
        # No implicit BEGIN before a write: every batch begins its own transaction, and a
        # first_try statement is its own (SQLite commits it as it ends).
        db.conn.isolation_level = None
        behind = IndexBehind(self.path, connect)
        try:
            while True:
                wait_s = behind.wait_s()
                if wait_s == 0:
                    behind.catch_up()
                    continue
                try:
                    item = self._queue.get(timeout=wait_s)
                except queue.Empty:  # no write came meanwhile: index the calls left now
                    behind.catch_up()
                    continue
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
                ended = run_batch(db, batch, self._explain)
                if ended == "left to index":
                    behind.left_behind()
                elif ended == "indexed":
                    behind.caught_up()
        finally:
            try:
                if behind.since is not None:
                    behind.catch_up()
            finally:
                behind.close()
                db.close()

    def _explain(self, error: BaseException) -> BaseException:
        return plain_error(error, self.path)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
        still_reading = self.reads_in_flight.stop_all(CLOSE_WAIT_S)
        with self._connections_lock:
            for conn in self._connections:
                if conn not in still_reading:  # else left to the process's end, not freed under it
                    conn.close()
            self._connections.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_db(path: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open (creating with mode 0600, and migrating) an llmbench database file; a file that
    cannot be written here is opened read-only (`Store.read_only`)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreError(f"{path} does not exist; run `llmbench demo` or pass --db")
        try:
            _create_private(path)
        except OSError as error:
            raise StoreError(f"cannot create {path}: {error.strerror or error}") from None
    try:
        _check_header(path)
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None
    read_only = not writable(path)
    try:
        migrate(path, read_only=read_only)
    except sqlite3.DatabaseError as error:
        plain = plain_error(error, path)
        if isinstance(plain, StoreError):
            raise plain from None
        raise NotAnLLMBenchDatabase(f"{path} cannot be read as a database: {error}") from None
    return Store(path, read_only=read_only)
