"""Retention's purge of the audit log: delete the oldest calls and/or empty the bodies of old
ones, with the chain still verifiable and every change recorded under the key.

A purge first writes its purge record (HMAC'd: the calls it empties, the purged_at it gives
them, what it deletes, and a random one-time token), then opens `purge_window` with that
token, which the append-only triggers check against the newest purge record; closing the
window spends the token. All of it in the caller's writer job, one transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from sqlite_utils import Database

from llmbench.core.audit.chain import Anchor, PurgeRecord, id_ranges
from llmbench.store.audit.chain_records import (
    chain_head,
    insert_anchor,
    insert_purge_record,
    now_text,
    sealing_point,
)
from llmbench.store.audit.media_parts import drop_kept_bytes


@dataclass(frozen=True)
class PurgePlan:
    delete_before: str | None
    redact_before: str | None
    to_delete: int
    to_redact: int


@dataclass(frozen=True)
class PurgeDone:
    """What a purge did (the plan with the counts really purged) and its record."""

    plan: PurgePlan
    record_id: int
    token: str
    record_hash: str


def _first_kept(db: Database, delete_before: str) -> int:
    """Deletion removes a prefix of the chain: every call before the first one at or after the
    cutoff (a late-finishing older attempt just after it is kept, never a newer one lost)."""
    row = db.execute("SELECT min(id) FROM calls WHERE ts >= ?", [delete_before]).fetchone()
    if row[0] is not None:
        return int(row[0])
    return chain_head(db).last_id + 1


def plan_purge(db: Database, delete_before: str | None, redact_before: str | None) -> PurgePlan:
    first_kept = _first_kept(db, delete_before) if delete_before else None
    to_delete = (
        db.execute("SELECT count(*) FROM calls WHERE id < ?", [first_kept]).fetchone()[0]
        if first_kept is not None
        else 0
    )
    to_redact = (
        db.execute(
            "SELECT count(*) FROM calls WHERE ts < ? AND purged_at IS NULL AND id >= ?",
            [redact_before, first_kept or 0],
        ).fetchone()[0]
        if redact_before
        else 0
    )
    return PurgePlan(delete_before, redact_before, to_delete, to_redact)


def purge(db: Database, key: bytes, plan: PurgePlan, reason: str) -> PurgeDone:
    """Delete and/or redact calls per the plan, keeping the chain verifiable. Writer job only."""
    point = sealing_point(db, key)  # records the form (and earlier purges) on first use
    now = now_text()
    first_kept = (
        _first_kept(db, plan.delete_before) if plan.delete_before and plan.to_delete else None
    )
    redact_ids: list[int] = []
    if plan.redact_before:
        redact_ids = [
            int(row[0])
            for row in db.execute(
                "SELECT id FROM calls WHERE ts < ? AND purged_at IS NULL AND id >= ? ORDER BY id",
                [plan.redact_before, first_kept or 0],
            )
        ]
    last_deleted = (
        db.execute(
            "SELECT id, hash FROM calls WHERE id < ? ORDER BY id DESC LIMIT 1", [first_kept]
        ).fetchone()
        if first_kept is not None
        else None
    )
    record = PurgeRecord(
        token=secrets.token_hex(16),
        purged_at=now,
        calls=tuple((first, last) for first, last in id_ranges(redact_ids)),
        redacted=len(redact_ids),
        deleted_through=int(last_deleted[0]) if last_deleted else None,
        reason=reason,
        db_id=point.db_id,
    )
    record_id, record_hash = insert_purge_record(db, key, record)
    db.execute(
        "INSERT INTO purge_window (id, reason, token) VALUES (1, ?, ?)", [reason, record.token]
    )
    deleted = 0
    try:
        if redact_ids:
            db.execute(
                "UPDATE calls SET messages = NULL, response = NULL, error = NULL,"
                " tool_calls = NULL, purged_at = ?"
                " WHERE ts < ? AND purged_at IS NULL AND id >= ?",
                [now, plan.redact_before, first_kept or 0],
            )
            # The bytes of the parts they sent, when kept (m015), go with their bodies.
            drop_kept_bytes(db, record.calls)
        if last_deleted is not None and first_kept is not None:
            deleted = _delete_through(db, int(last_deleted[0]))
            insert_anchor(
                db,
                key,
                Anchor(
                    first_kept_call_id=first_kept,
                    prev_hash=str(last_deleted[1]),
                    deleted=deleted,
                    reason=reason,
                    created_at=now,
                ),
            )
        # FTS5 deletes only add tombstones: the purged words stay in the index's older segments
        # until they are merged. Merging them all now is what makes the bodies leave the file.
        db.execute("INSERT INTO calls_fts(calls_fts) VALUES ('optimize')")
    finally:
        db.execute("DELETE FROM purge_window")
    done = replace(plan, to_delete=deleted, to_redact=len(redact_ids))
    return PurgeDone(done, record_id, record.token, record_hash)


def _delete_through(db: Database, last_id: int) -> int:
    for table in ("checks", "grades", "feedback"):
        db.execute(
            f"DELETE FROM [{table}] WHERE call_id IN (SELECT id FROM calls WHERE id <= ?)",
            [last_id],
        )
    db.execute("UPDATE results SET call_id = NULL WHERE call_id <= ?", [last_id])
    return int(db.execute("DELETE FROM calls WHERE id <= ?", [last_id]).rowcount)
