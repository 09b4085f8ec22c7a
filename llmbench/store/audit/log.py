"""Appending to and verifying the audit log (`calls`) with its hash chain.

Purging is `store.audit.purging`, the chain's other records `store.audit.chain_records`; their
names most callers use are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from llmbench.core.audit.chain import (
    CONTENT_FIELDS,
    METADATA_FIELDS,
    ChainHead,
    ChainReport,
    seal,
)
from llmbench.core.audit.chain_verify import verify_log
from llmbench.store.audit import chain_records
from llmbench.store.audit.chain_records import (
    ChainKeyMismatch,
    SealPoint,
    chain_head,
    database_id,
    sealing_point,
)
from llmbench.store.audit.purging import PurgeDone, PurgePlan, plan_purge, purge
from llmbench.store.schema.vocabulary import CALL_STATUSES

__all__ = [
    "ChainKeyMismatch",
    "PurgeDone",
    "PurgePlan",
    "SealPoint",
    "append_calls",
    "chain_head",
    "database_id",
    "insert_sealed",
    "plan_purge",
    "purge",
    "seal_calls",
    "sealing_point",
    "verify_chain",
]

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
    key: bytes, head: SealPoint | tuple[int, str], calls: Iterable[Mapping[str, Any]]
) -> tuple[list[tuple[Any, ...]], SealPoint]:
    """The calls as sealed rows for `insert_sealed`, ids ascending from the sealing point (a
    plain (last id, last hash) seals in form 1), and the point after them. Pure computation:
    an importer seals in another process while this one writes."""
    point = head if isinstance(head, SealPoint) else SealPoint(*head)
    last_id, prev_hash = point.last_id, point.prev_hash
    rows = []
    for call in calls:
        row = _checked(call)
        last_id += 1
        row["id"] = last_id
        prev_hash = seal(key, prev_hash, row, form=point.form, db_id=point.db_id)["hash"]
        rows.append(tuple(row.get(column) for column in _INSERT_COLUMNS))
    return rows, point._replace(last_id=last_id, prev_hash=prev_hash)


def insert_sealed(db: Database, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows from `seal_calls`, sealed on this database's chain head."""
    db.conn.executemany(_INSERT_SQL, rows)


def append_calls(db: Database, key: bytes, calls: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert calls in order (ids ascend with it), each sealed onto the chain in the current
    form, and return their ids. JSON columns must already be JSON text; unknown keys are
    ignored. Run inside a writer job: the write lock held by BEGIN IMMEDIATE makes the chain's
    order the insert order, across processes too. Refuses a key other than the chain's
    (ChainKeyMismatch)."""
    if not calls:
        return []
    head = sealing_point(db, key)
    rows, _after = seal_calls(key, head, calls)
    insert_sealed(db, rows)
    return list(range(head.last_id + 1, head.last_id + 1 + len(rows)))


def verify_chain(
    db: Database,
    key: bytes,
    checkpoint: tuple[int, str] | None = None,
    head: tuple[ChainHead, str] | None = None,
) -> ChainReport:
    """Walk the whole log under `key`, with the records the database holds, a checkpoint kept
    elsewhere and the head recorded beside the key (each optional)."""
    evidence = replace(chain_records.evidence(db), head=head, checkpoint=checkpoint)
    return verify_log(key, chain_records.rows(db), evidence)
