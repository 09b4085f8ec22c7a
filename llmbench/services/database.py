"""Opening the database for the CLI and the TUI, and reporting on it.

The TUI opens the database before its first frame; the maintenance reads (facts, integrity,
backup) are imported only by the commands that use them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.store.db import NotAnLLMBenchDatabase, Store, StoreError, open_db

if TYPE_CHECKING:
    from llmbench.store.maintenance import DatabaseFacts, IntegrityReport

# What SQLite may leave beside a database file: removed with a file a failed command created.
_COMPANIONS = ("-wal", "-shm", "-journal")


def open_store(path: Path, *, create: bool = True) -> Store:
    """Open the database at `path`. Without `create` (every command that only reads) nothing is
    made or converted: a missing file, or an empty one, is refused with what is wrong."""
    path = Path(path).expanduser()
    if not create:
        _refuse_what_a_reader_would_create(path)
    return open_db(path, create=create)


def _refuse_what_a_reader_would_create(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        missing = next((folder for folder in reversed(path.parents) if not folder.exists()), None)
        where = f" (the folder {missing} does not exist either)" if missing else ""
        raise StoreError(
            f"{path} does not exist{where}; check the path, or make a database there with "
            f"`llmbench demo --db {path}` (example data) or `llmbench --create --db {path}`"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise NotAnLLMBenchDatabase(
            f"{path} is an empty file, not an llmbench database; a command that only reads "
            "leaves it as it is"
        )


@contextlib.contextmanager
def open_for_command(path: Path) -> Iterator[Store]:
    """Open (creating if need be) the database a writing command works on. When the command
    fails (an exception, or exiting non-zero) and the file did not exist before, the file,
    its -wal and -shm and any folder made for it are removed again: a refused command leaves
    nothing behind."""
    path = Path(path).expanduser()
    existed = path.exists() or path.is_symlink()
    made_folders = [folder for folder in path.parents if not folder.exists()]
    store = open_store(path, create=True)
    try:
        yield store
    except SystemExit as stop:
        if stop.code not in (None, 0) and not existed:
            _remove_created(store, path, made_folders)
        raise
    except BaseException:
        if not existed:
            _remove_created(store, path, made_folders)
        raise
    finally:
        store.close()


def _remove_created(store: Store, path: Path, folders: list[Path]) -> None:
    """Undo what opening made; a file that cannot even be read back is left where it is,
    and the command's own error is the one reported."""
    try:
        _remove_unsealed(store, path, folders)
    except Exception:  # cleanup never hides why the command failed
        store.close()


def _remove_unsealed(store: Store, path: Path, folders: list[Path]) -> None:
    from llmbench.gateway.chain_key import forget_unused_key
    from llmbench.store.audit.chain_records import database_id, has_history

    db = store.read()
    sealed = has_history(db)
    db_id = database_id(db)
    store.close()
    if sealed:  # the command failed after sealing calls: they and their key are kept
        return
    for name in (path.name, *(path.name + suffix for suffix in _COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            (path.parent / name).unlink()
    for folder in folders:  # innermost first; only those still empty
        with contextlib.suppress(OSError):
            folder.rmdir()
    forget_unused_key(db_id)  # a key made for the removed file would name no database


def describe(store: Store) -> DatabaseFacts:
    from llmbench.store.maintenance import database_facts

    return database_facts(store.read())


def verify_file(store: Store) -> IntegrityReport:
    from llmbench.store.maintenance import check_integrity

    return check_integrity(store.read())


def backup_to(store: Store, target: Path) -> Path:
    """An online copy of the database at `target`, checked before it is reported as good."""
    target = target.expanduser()
    if target.exists():
        raise StoreError(f"{target} already exists; pick a new file for the backup")
    if not target.parent.is_dir():
        raise StoreError(f"{target.parent} is not a folder")
    from llmbench.store.maintenance import backup, check_integrity

    backup(store.read(), target)
    with open_db(target, create=False) as copy:
        report = check_integrity(copy.read())
    if not report.ok:
        raise StoreError(f"the backup at {target} failed its integrity check: {report.integrity}")
    return target
