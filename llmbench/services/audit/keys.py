"""Bringing a database's audit-chain key along with the database: export it to a 0600 file
where the log was written, import it where the copy is. An import must verify the copy's chain:
a key that does not is refused, so a wrong key never replaces a right one."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import (
    ChainKeyFileError,
    ChainKeyMissing,
    KeyPlace,
    load_chain_key,
    parse_key,
    replace_key,
    write_private,
)
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.db import Store

MAX_KEY_FILE_BYTES = 4096


def export_key(store: Store, target: Path) -> Path:
    """Write the database's key to `target` (0600), which must not exist yet."""
    db_id = database_id(store.read())
    key = load_chain_key(db_id, create=False)
    if target.exists() or target.is_symlink():
        raise ChainKeyFileError(
            f"{target} already exists: an export never overwrites a file; pick a new name"
        )
    try:
        write_private(target, key.hex() + "\n")
    except FileExistsError:
        raise ChainKeyFileError(f"{target} already exists; pick a new name") from None
    except OSError as error:
        raise ChainKeyFileError(f"cannot write {target}: {error.strerror or error}") from None
    return target


def _read_key_file(source: Path) -> bytes:
    try:
        info = os.stat(source)
    except OSError as error:
        raise ChainKeyFileError(f"cannot read {source}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_KEY_FILE_BYTES:
        raise ChainKeyFileError(
            f"{source} is not a key file written by `llmbench audit key export`"
        )
    try:
        return parse_key(source.read_text(encoding="ascii"), str(source))
    except (ChainKeyMissing, UnicodeDecodeError):
        raise ChainKeyFileError(
            f"{source} is not a key file written by `llmbench audit key export`"
        ) from None


@dataclass(frozen=True)
class ImportedKey:
    status: Literal["imported", "replaced", "already-here"]
    place: KeyPlace | None
    calls: int


def import_key(store: Store, source: Path) -> ImportedKey:
    """Keep the key in `source` for this database, if it verifies the database's chain. A key
    already here that verifies the chain is never replaced; one that does not (a second key
    made for a copy) is kept aside."""
    key = _read_key_file(source)
    db = store.read()
    db_id = database_id(db)
    report = verify_chain(db, key)
    if report.problem is not None:
        raise ChainKeyFileError(
            f"the key in {source} does not verify this database's audit chain "
            f"({report.problem.place}: {report.problem.reason}); nothing was imported"
        )
    try:
        existing: bytes | None = load_chain_key(db_id, create=False)
    except ChainKeyMissing:
        existing = None
    if existing == key:
        return ImportedKey("already-here", None, report.checked)
    # A key already here cannot verify a chain this one verifies (unless the log is empty):
    # it is a second key made for this copy, kept aside with any head recorded with it.
    place = replace_key(db_id, key)
    record_head(store, key)
    return ImportedKey("imported" if existing is None else "replaced", place, report.checked)
