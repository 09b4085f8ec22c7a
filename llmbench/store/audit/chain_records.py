"""The audit chain's records besides the calls: where appends continue (the sealing point),
which sealed form applies from which call, retention anchors, purge records, and what a
verification reads of them. Only llmbench's writer jobs write them, with the key."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlite_utils import Database

from llmbench.core.audit.chain import (
    CURRENT_FORM,
    GENESIS,
    LEGACY_FORM,
    Anchor,
    FormRecord,
    PurgeRecord,
    id_ranges,
    key_id,
)
from llmbench.core.audit.chain_verify import ChainEvidence
from llmbench.store.db import StoreError

LEGACY_PURGE_REASON = "purged before llmbench recorded its purges (recorded with form 2)"


class ChainKeyMismatch(StoreError):
    """The key at hand is not the one this database's calls are sealed with."""


class SealPoint(NamedTuple):
    """Where the next call is sealed: after `last_id`, whose hash is `prev_hash`, in `form`
    for database `db_id`."""

    last_id: int
    prev_hash: str
    form: int = LEGACY_FORM
    db_id: str = ""


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def database_id(db: Database) -> str:
    return str(db.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0])


def _latest_form(db: Database) -> tuple[int, int, str, str] | None:
    row = db.execute(
        "SELECT form, first_call_id, db_id, key_id FROM chain_forms ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (int(row[0]), int(row[1]), str(row[2]), str(row[3])) if row else None


def _end(db: Database) -> tuple[int, str]:
    """The last call's id and hash; after retention deleted every call, where its anchor says
    the chain stopped; 0 and GENESIS for a log that never held one."""
    row = db.execute("SELECT id, hash FROM calls ORDER BY id DESC LIMIT 1").fetchone()
    if row is not None:
        return int(row[0]), str(row[1] or GENESIS)
    anchor = db.execute(
        "SELECT first_kept_call_id, prev_hash FROM chain_anchors ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (int(anchor[0]) - 1, str(anchor[1])) if anchor else (0, GENESIS)


def chain_head(db: Database) -> SealPoint:
    """The last call's id and hash (0 and GENESIS for an empty log), with the form the next
    calls are sealed in."""
    last_id, prev_hash = _end(db)
    form = _latest_form(db)
    if form is None:
        return SealPoint(last_id, prev_hash)
    return SealPoint(last_id, prev_hash, form[0], form[2])


def key_mismatch(theirs: str, ours: str) -> str:
    return (
        f"this database's calls are sealed with another audit-chain key (id {theirs}), not this "
        f"one (id {ours}): it was copied without its key, and sealing with a second key would "
        "split its chain; bring the original key here (`llmbench audit key export FILE` where "
        "the log was written, then `llmbench audit key import FILE` here)"
    )


_POINT_SQL = """
    SELECT f.form, f.first_call_id, f.db_id, f.key_id, c.id, c.hash
    FROM (SELECT 1)
    LEFT JOIN (SELECT * FROM chain_forms ORDER BY id DESC LIMIT 1) AS f
    LEFT JOIN (SELECT id, hash FROM calls ORDER BY id DESC LIMIT 1) AS c
"""


def sealing_point(db: Database, key: bytes) -> SealPoint:
    """The sealing point for new calls in the current form. The first time, records the form
    (and the purges done before purges were recorded). Refuses a key other than the one the
    form record names. Writer job only."""
    ours = key_id(key)
    # The usual case in one statement (each one a wait for the interpreter lock on a busy
    # process): the latest form record and the last call.
    form, _first, form_db_id, form_key_id, last_id, last_hash = db.execute(_POINT_SQL).fetchone()
    if form is not None and form_key_id != ours:
        raise ChainKeyMismatch(key_mismatch(form_key_id, ours))
    if last_id is None:
        last_id, prev_hash = _end(db)
    else:
        last_id, prev_hash = int(last_id), str(last_hash or GENESIS)
    if form == CURRENT_FORM:
        return SealPoint(last_id, prev_hash, CURRENT_FORM, str(form_db_id))
    db_id = database_id(db)
    record = FormRecord(CURRENT_FORM, last_id + 1, db_id, ours, now_text())
    _record_legacy_purges(db, key, db_id)
    db.execute(
        "INSERT INTO chain_forms (form, first_call_id, db_id, key_id, created_at, hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            record.form,
            record.first_call_id,
            record.db_id,
            record.key_id,
            record.created_at,
            record.digest(key),
        ],
    )
    return SealPoint(last_id, prev_hash, CURRENT_FORM, db_id)


def _record_legacy_purges(db: Database, key: bytes, db_id: str) -> None:
    """Purges from before purge records: one record per purged_at, naming only calls whose
    bodies are really empty (a call marked purged that still holds text stays unrecorded,
    and fails verification)."""
    purged: dict[str, list[int]] = {}
    for call_id, purged_at in db.execute(
        "SELECT id, purged_at FROM calls WHERE purged_at IS NOT NULL AND messages IS NULL"
        " AND response IS NULL AND error IS NULL ORDER BY id"
    ):
        purged.setdefault(str(purged_at), []).append(int(call_id))
    for purged_at, ids in purged.items():
        record = PurgeRecord(
            token=secrets.token_hex(16),
            purged_at=purged_at,
            calls=tuple((first, last) for first, last in id_ranges(ids)),
            redacted=len(ids),
            deleted_through=None,
            reason=LEGACY_PURGE_REASON,
            db_id=db_id,
        )
        insert_purge_record(db, key, record)
        # Such a token never opens the purge window.
        db.execute("INSERT INTO purge_tokens_spent (token) VALUES (?)", [record.token])


def insert_purge_record(db: Database, key: bytes, record: PurgeRecord) -> tuple[int, str]:
    """Insert a purge record; its id and HMAC."""
    digest = record.digest(key)
    cursor = db.execute(
        "INSERT INTO chain_purges (token, purged_at, calls, redacted, deleted_through, reason,"
        " hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            record.token,
            record.purged_at,
            json.dumps([list(run) for run in record.calls], separators=(",", ":")),
            record.redacted,
            record.deleted_through,
            record.reason,
            digest,
        ],
    )
    return int(cursor.lastrowid or 0), digest


def insert_anchor(db: Database, key: bytes, anchor: Anchor) -> None:
    db.execute(
        "INSERT INTO chain_anchors (first_kept_call_id, prev_hash, deleted, reason,"
        " created_at, hash) VALUES (?, ?, ?, ?, ?, ?)",
        [
            anchor.first_kept_call_id,
            anchor.prev_hash,
            anchor.deleted,
            anchor.reason,
            anchor.created_at,
            anchor.digest(key),
        ],
    )


def has_history(db: Database) -> bool:
    """Whether calls were ever sealed into this database (some may since have been deleted):
    a key created now could never verify them."""
    return bool(
        db.execute(
            "SELECT EXISTS (SELECT 1 FROM calls) OR EXISTS (SELECT 1 FROM chain_anchors)"
            " OR EXISTS (SELECT 1 FROM chain_forms)"
        ).fetchone()[0]
    )


def sealed_key_id(db: Database) -> str | None:
    """The fingerprint of the key the newest form record names (None before the first)."""
    latest = _latest_form(db)
    return latest[3] if latest else None


def sealed_for(db: Database) -> str | None:
    """The database id the form records name (None before the first one)."""
    row = db.execute("SELECT db_id FROM chain_forms ORDER BY id LIMIT 1").fetchone()
    return str(row[0]) if row else None


def first_sealed_row(db: Database) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM calls ORDER BY id LIMIT 1")


def last_row(db: Database) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM calls ORDER BY id DESC LIMIT 1")


def _one(db: Database, sql: str, params: list[Any] | None = None) -> dict[str, Any] | None:
    cursor = db.execute(sql, params or [])
    values = cursor.fetchone()
    if values is None:
        return None
    return dict(zip([d[0] for d in cursor.description], values, strict=True))


def call_hash(db: Database, call_id: int) -> str | None:
    row = db.execute("SELECT hash FROM calls WHERE id = ?", [call_id]).fetchone()
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class CommittedEnd:
    """The end of the chain as committed: the last call (None when the log is empty), how many
    calls the log holds, and the form record the current form started with."""

    last: dict[str, Any] | None
    point: SealPoint
    count: int
    retention_floor: int
    form_first_call_id: int | None
    form: int
    form_db_id: str


def committed_end(db: Database) -> CommittedEnd:
    point = chain_head(db)
    floor = db.execute("SELECT coalesce(max(first_kept_call_id), 1) - 1 FROM chain_anchors")
    retention_floor = int(floor.fetchone()[0])
    form = _latest_form(db)
    last = last_row(db)
    return CommittedEnd(
        last=last,
        point=point,
        count=max(point.last_id - retention_floor, 0),
        retention_floor=retention_floor,
        form_first_call_id=form[1] if form else None,
        form=form[0] if form else LEGACY_FORM,
        form_db_id=form[2] if form else "",
    )


def form_of(db: Database, call_id: int) -> tuple[int, str]:
    """The form (and database id) a call was sealed in."""
    row = db.execute(
        "SELECT form, db_id FROM chain_forms WHERE first_call_id <= ? ORDER BY first_call_id"
        " DESC LIMIT 1",
        [call_id],
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (LEGACY_FORM, "")


def anchors(db: Database) -> dict[int, tuple[Anchor, str]]:
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


def _forms(db: Database) -> tuple[tuple[FormRecord, str], ...]:
    return tuple(
        (
            FormRecord(
                row["form"], row["first_call_id"], row["db_id"], row["key_id"], row["created_at"]
            ),
            row["hash"],
        )
        for row in db.query("SELECT * FROM chain_forms ORDER BY first_call_id, id")
    )


def _purges(db: Database, db_id: str) -> tuple[tuple[int, PurgeRecord, str], ...]:
    found = []
    for row in db.query("SELECT * FROM chain_purges ORDER BY id"):
        try:
            runs = tuple((int(first), int(last)) for first, last in json.loads(row["calls"]))
        except (ValueError, TypeError):
            runs = ()  # unreadable: it covers nothing, so the calls it claims fail
        record = PurgeRecord(
            token=row["token"],
            purged_at=row["purged_at"],
            calls=runs,
            redacted=row["redacted"],
            deleted_through=row["deleted_through"],
            reason=row["reason"],
            db_id=db_id,
        )
        found.append((int(row["id"]), record, row["hash"]))
    return tuple(found)


def evidence(db: Database) -> ChainEvidence:
    """Everything the database holds about its chain besides the calls."""
    db_id = database_id(db)
    forms = _forms(db)
    # Purge records are sealed for the database their form record names.
    sealed_db = forms[0][0].db_id if forms else db_id
    return ChainEvidence(
        db_id=db_id, anchors=anchors(db), forms=forms, purges=_purges(db, sealed_db)
    )


def rows(db: Database) -> Iterator[Mapping[str, Any]]:
    cursor = db.execute("SELECT * FROM calls ORDER BY id")
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(2000):
        for values in batch:
            yield dict(zip(names, values, strict=True))
