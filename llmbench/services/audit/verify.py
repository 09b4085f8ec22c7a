"""Proving the audit log intact: verification against the head recorded beside the key and
against checkpoints kept elsewhere, and checkpoints themselves."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from llmbench.core.audit.chain import LEGACY_FORM, ChainProblem, ChainReport, row_seal_matches
from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import (
    ChainKeyMissing,
    discard_head,
    keys_dir,
    load_chain_key,
    parse_key,
    read_head,
)
from llmbench.store.audit.chain_records import first_sealed_row, has_history, sealed_for
from llmbench.store.audit.log import chain_head, database_id, verify_chain
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.store.db import Database


class BadCheckpoint(ValueError):
    pass


def parse_checkpoint(text: str) -> tuple[int, str]:
    """A checkpoint as printed by `llmbench audit checkpoint`: ID:HASH."""
    call_id, _, digest = text.partition(":")
    if not call_id.isdigit() or len(digest) != 64:
        raise BadCheckpoint(f"{text!r} is not a checkpoint (expected ID:HASH, 64 hex digits)")
    return int(call_id), digest


def _db_id_edited(db: Database, db_id: str, reason: str) -> ChainReport:
    first = first_sealed_row(db)
    call_id = int(first["id"]) if first else 0
    problem = ChainProblem(call_id, reason, "db-id-edited", "meta.db_id")
    return ChainReport(0, 0, None, None, problem)


def _sealed_elsewhere(db: Database, db_id: str) -> str | None:
    """For a log from before form records: the database whose key on this machine seals its
    first call, when it is not the one meta.db_id names."""
    first = first_sealed_row(db)
    if first is None or not keys_dir().is_dir():
        return None
    for path in sorted(keys_dir().glob("*.key")):
        if path.stem == db_id:
            continue
        with contextlib.suppress(ChainKeyMissing, OSError, UnicodeDecodeError):
            other_key = parse_key(path.read_text("ascii"), str(path))
            if row_seal_matches(other_key, LEGACY_FORM, "", first):
                return path.stem
    return None


def verify(
    store: Store,
    *,
    key_file: Path | None = None,
    checkpoint: str | None = None,
    record: bool = True,
    head: Literal["check", "ignore", "reset"] = "check",
) -> ChainReport:
    """Walk the chain under the database's key, against the head recorded beside the key and
    `checkpoint` (ID:HASH). A log that verifies moves the recorded head to its end (`record`),
    so a head is kept from the first verification of a log written before heads were.

    `head="ignore"` verifies an older copy (a backup) without the recorded head and records
    nothing; "reset" ignores it too and, if the log verifies, records its end as the head (the
    old one kept aside): after restoring a backup, when the calls since are knowingly lost."""
    wanted = parse_checkpoint(checkpoint) if checkpoint else None
    db = store.read()
    db_id = database_id(db)
    sealed = sealed_for(db)
    if sealed is not None and sealed != db_id:
        return _db_id_edited(
            db,
            db_id,
            f"meta.db_id was changed to {db_id}: this log was sealed for database {sealed} (its "
            f"form record says so); set meta.db_id back to {sealed}",
        )
    try:
        key = load_chain_key(db_id, create=False, explicit_file=key_file)
    except ChainKeyMissing:
        if not has_history(db):
            return ChainReport(0, 0, None, None, None, "none")
        other = _sealed_elsewhere(db, db_id) if key_file is None else None
        if other is not None:
            return _db_id_edited(
                db,
                db_id,
                f"meta.db_id was changed to {db_id}: this log's calls verify under the key of "
                f"database {other}; set meta.db_id back to {other}",
            )
        raise
    recorded = read_head(db_id) if head == "check" else None
    report = verify_chain(db, key, wanted, recorded)
    if report.ok and head == "reset":
        discard_head(db_id)
    if report.ok and record and head != "ignore":
        # Best effort, whatever fails (a read-only config folder, a locked keyring): the head
        # then stays where it was, and this verification's verdict stands.
        with contextlib.suppress(Exception):
            outcome = record_head(store, key)
            if report.head_check == "none" and outcome.status == "recorded":
                report = replace(report, head_check="recorded")
    return report


def checkpoint(store: Store) -> str:
    point = chain_head(store.read())
    return f"{point.last_id}:{point.prev_hash}"
