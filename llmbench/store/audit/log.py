"""Appending to, verifying and purging the audit log (`calls`) with its hash chain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from llmbench.core.audit.chain import (
    CONTENT_FIELDS,
    GENESIS,
    METADATA_FIELDS,
    Anchor,
    ChainReport,
    seal,
    verify_rows,
)
from llmbench.store.schema.vocabulary import CALL_STATUSES

_INSERT_COLUMNS: tuple[str, ...] = (
    *METADATA_FIELDS,
    *CONTENT_FIELDS,
    "content_hash",
    "prev_hash",
    "hash",
)
_INSERT_SQL = "INSERT INTO calls ({}) VALUES ({})".format(
    ", ".join(f"[{c}]" for c in _INSERT_COLUMNS), ", ".join("?" for _ in _INSERT_COLUMNS)
)
_COLUMN_SET = frozenset(_INSERT_COLUMNS) - {"id", "content_hash", "prev_hash", "hash"}
_DEFAULTS: dict[str, Any] = {
    "attempt": 1,
    "provider": "",
    "params": "{}",
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cached_tokens": 0,
    "tokens_estimated": 0,
    "saving": 0.0,
    "tags": "{}",
    "guard_flags": "[]",
    "flagged": 0,
}


def database_id(db: Database) -> str:
    return str(db.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0])


def chain_head(db: Database) -> tuple[int, str]:
    """The last call's id and hash (0 and GENESIS for an empty log)."""
    row = db.execute("SELECT id, hash FROM calls ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        anchor = db.execute(
            "SELECT first_kept_call_id, prev_hash FROM chain_anchors ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (int(anchor[0]) - 1, str(anchor[1])) if anchor else (0, GENESIS)
    return int(row[0]), str(row[1] or GENESIS)


_REQUIRED = ("ts", "request_id", "model_requested", "model", "status")
_STATUSES = frozenset(CALL_STATUSES)


def _checked(call: Mapping[str, Any]) -> dict[str, Any]:
    missing = [name for name in _REQUIRED if call.get(name) is None]
    if missing:
        raise ValueError(f"call is missing {', '.join(missing)}")
    if call["status"] not in _STATUSES:
        raise ValueError(f"unknown call status {call['status']!r}")
    known = {k: v for k, v in call.items() if v is not None and k in _COLUMN_SET}
    return {**_DEFAULTS, **known}


def seal_calls(
    key: bytes, head: tuple[int, str], calls: Iterable[Mapping[str, Any]]
) -> tuple[list[tuple[Any, ...]], tuple[int, str]]:
    """The calls as sealed rows for `insert_sealed`, ids ascending from the chain head (last
    id, last hash), and the head after them. Pure computation: an importer seals in another
    process while this one writes."""
    last_id, prev_hash = head
    rows = []
    for call in calls:
        row = _checked(call)
        last_id += 1
        row["id"] = last_id
        prev_hash = seal(key, prev_hash, row)["hash"]
        rows.append(tuple(row.get(column) for column in _INSERT_COLUMNS))
    return rows, (last_id, prev_hash)


def insert_sealed(db: Database, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows from `seal_calls`, sealed on this database's chain head."""
    db.conn.executemany(_INSERT_SQL, rows)


def append_calls(db: Database, key: bytes, calls: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert calls in order (ids ascend with it), each sealed onto the chain, and return their
    ids. JSON columns must already be JSON text; unknown keys are ignored. Run inside a writer
    job: the write lock held by BEGIN IMMEDIATE makes the chain's order the insert order,
    across processes too."""
    head = chain_head(db)
    rows, _after = seal_calls(key, head, calls)
    insert_sealed(db, rows)
    return list(range(head[0] + 1, head[0] + 1 + len(rows)))


def _anchors(db: Database) -> dict[int, tuple[Anchor, str]]:
    found: dict[int, tuple[Anchor, str]] = {}
    for row in db.query("SELECT * FROM chain_anchors ORDER BY id"):
        anchor = Anchor(
            first_kept_call_id=row["first_kept_call_id"],
            prev_hash=row["prev_hash"],
            deleted=row["deleted"],
            reason=row["reason"],
            created_at=row["created_at"],
        )
        found[anchor.first_kept_call_id] = (anchor, row["hash"])
    return found


def _rows(db: Database) -> Iterator[dict[str, Any]]:
    cursor = db.execute("SELECT * FROM calls ORDER BY id")
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(2000):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def verify_chain(
    db: Database, key: bytes, checkpoint: tuple[int, str] | None = None
) -> ChainReport:
    return verify_rows(key, _rows(db), _anchors(db), checkpoint)


@dataclass(frozen=True)
class PurgePlan:
    delete_before: str | None
    redact_before: str | None
    to_delete: int
    to_redact: int


def _first_kept(db: Database, delete_before: str) -> int:
    """Deletion removes a prefix of the chain: every call before the first one at or after the
    cutoff (a late-finishing older attempt just after it is kept, never a newer one lost)."""
    row = db.execute("SELECT min(id) FROM calls WHERE ts >= ?", [delete_before]).fetchone()
    if row[0] is not None:
        return int(row[0])
    return chain_head(db)[0] + 1


def plan_purge(db: Database, delete_before: str | None, redact_before: str | None) -> PurgePlan:
    to_delete = (
        db.execute(
            "SELECT count(*) FROM calls WHERE id < ?", [_first_kept(db, delete_before)]
        ).fetchone()[0]
        if delete_before
        else 0
    )
    to_redact = (
        db.execute(
            "SELECT count(*) FROM calls WHERE ts < ? AND purged_at IS NULL"
            + (" AND ts >= ?" if delete_before else ""),
            [redact_before, delete_before] if delete_before else [redact_before],
        ).fetchone()[0]
        if redact_before
        else 0
    )
    return PurgePlan(delete_before, redact_before, to_delete, to_redact)


def purge(db: Database, key: bytes, plan: PurgePlan, reason: str) -> PurgePlan:
    """Delete and/or redact calls per the plan, keeping the chain verifiable. Writer job only."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db.execute("INSERT INTO purge_window (id, reason) VALUES (1, ?)", [reason])
    try:
        if plan.redact_before:
            db.execute(
                "UPDATE calls SET messages = NULL, response = NULL, error = NULL, purged_at = ?"
                " WHERE ts < ? AND purged_at IS NULL",
                [now, plan.redact_before],
            )
        if plan.delete_before and plan.to_delete:
            first_kept = _first_kept(db, plan.delete_before)
            last = db.execute(
                "SELECT id, hash FROM calls WHERE id < ? ORDER BY id DESC LIMIT 1", [first_kept]
            ).fetchone()
            for table in ("checks", "grades", "feedback"):
                db.execute(
                    f"DELETE FROM [{table}] WHERE call_id IN (SELECT id FROM calls WHERE id <= ?)",
                    [last[0]],
                )
            db.execute("UPDATE results SET call_id = NULL WHERE call_id <= ?", [last[0]])
            deleted = db.execute("DELETE FROM calls WHERE id <= ?", [last[0]]).rowcount
            anchor = Anchor(
                first_kept_call_id=first_kept,
                prev_hash=str(last[1]),
                deleted=deleted,
                reason=reason,
                created_at=now,
            )
            db.execute(
                "INSERT INTO chain_anchors (first_kept_call_id, prev_hash, deleted, reason,"
                " created_at, hash) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    anchor.first_kept_call_id,
                    anchor.prev_hash,
                    anchor.deleted,
                    reason,
                    now,
                    anchor.digest(key),
                ],
            )
        # FTS5 deletes only add tombstones: the purged words stay in the index's older segments
        # until they are merged. Merging them all now is what makes the bodies leave the file.
        db.execute("INSERT INTO calls_fts(calls_fts) VALUES ('optimize')")
    finally:
        db.execute("DELETE FROM purge_window")
    return plan
