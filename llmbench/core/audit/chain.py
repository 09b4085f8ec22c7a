"""The tamper-evident chain over the audit log.

Each call's hash is an HMAC-SHA256, keyed with a secret kept outside the database, over the
previous call's hash, the call's canonical metadata and the SHA-256 of its content (messages,
response, error). Retention can therefore purge bodies — the content hash stays — and the chain
still verifies; editing, removing or reordering a row breaks it, and without the key nobody can
recompute it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

GENESIS = "genesis"

FieldKind = Literal["int", "real", "text"]

# Every column of `calls` except the body, the hashes and purged_at, with its SQLite type, so a
# value hashes the same before insert and after a round trip through the database.
METADATA_FIELDS: dict[str, FieldKind] = {
    "id": "int",
    "ts": "text",
    "request_id": "text",
    "attempt": "int",
    "model_requested": "text",
    "model": "text",
    "provider": "text",
    "prompt_version_id": "int",
    "run_id": "int",
    "params": "text",
    "finish_reason": "text",
    "prompt_tokens": "int",
    "completion_tokens": "int",
    "cached_tokens": "int",
    "tokens_estimated": "int",
    "cost": "real",
    "input_price": "real",
    "output_price": "real",
    "cached_price": "real",
    "saving": "real",
    "latency_ms": "real",
    "ttft_ms": "real",
    "status": "text",
    "error_kind": "text",
    "feature": "text",
    "team": "text",
    "customer": "text",
    "task_type": "text",
    "user": "text",
    "arm": "text",
    "tags": "text",
    "guard_flags": "text",
    "flagged": "int",
}
CONTENT_FIELDS: tuple[str, ...] = ("messages", "response", "error")

_COERCE = {"int": int, "real": float, "text": str}
# The fields in sorted order with their coercion: building the dict already sorted gives the
# same text as sort_keys=True without sorting 35 keys per call (sealing runs once per call).
_SORTED_FIELDS: tuple[tuple[str, type], ...] = tuple(
    (name, _COERCE[kind]) for name, kind in sorted(METADATA_FIELDS.items())
)
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_metadata(row: Mapping[str, Any]) -> str:
    """The metadata as sorted, compact JSON (the same text as `_canonical` of the coerced
    fields)."""
    get = row.get
    return _encode(
        {
            name: None if (value := get(name)) is None else (
                value if type(value) is coerce else coerce(value)
            )
            for name, coerce in _SORTED_FIELDS
        }
    )  # fmt: skip


def content_hash(row: Mapping[str, Any]) -> str:
    body = [row.get(name) for name in CONTENT_FIELDS]
    return hashlib.sha256(_encode(body).encode()).hexdigest()


def link_hash(key: bytes, prev_hash: str, metadata: str, content: str) -> str:
    message = f"{prev_hash}\n{metadata}\n{content}".encode()
    return hmac.digest(key, message, "sha256").hex()


def seal(key: bytes, prev_hash: str, row: dict[str, Any]) -> dict[str, Any]:
    """Set content_hash, prev_hash and hash on a row (which must already carry its id)."""
    row["content_hash"] = content_hash(row)
    row["prev_hash"] = prev_hash
    row["hash"] = link_hash(key, prev_hash, canonical_metadata(row), row["content_hash"])
    return row


@dataclass(frozen=True)
class Anchor:
    """Where retention removed the start of the chain."""

    first_kept_call_id: int
    prev_hash: str
    deleted: int
    reason: str
    created_at: str

    def digest(self, key: bytes) -> str:
        message = _canonical(
            [
                "anchor",
                self.first_kept_call_id,
                self.prev_hash,
                self.deleted,
                self.reason,
                self.created_at,
            ]
        ).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    call_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    purged_bodies: int
    head_id: int | None
    head_hash: str | None
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_rows(
    key: bytes,
    rows: Iterable[Mapping[str, Any]],
    anchors: Mapping[int, tuple[Anchor, str]] | None = None,
    checkpoint: tuple[int, str] | None = None,
) -> ChainReport:
    """Walk rows in id order; report the first that does not fit the chain.

    `anchors` maps first_kept_call_id → (anchor, stored anchor hash). `checkpoint` is a head
    (id, hash) printed earlier: the chain must still contain it, which catches a deleted tail.
    """
    anchors = anchors or {}
    expected_prev = GENESIS
    checked = purged = 0
    head_id: int | None = None
    head_hash: str | None = None
    checkpoint_seen = checkpoint is None

    def fail(call_id: int, reason: str) -> ChainReport:
        return ChainReport(checked, purged, head_id, head_hash, ChainProblem(call_id, reason))

    for row in rows:
        call_id = int(row["id"])
        if call_id in anchors:
            anchor, stored = anchors[call_id]
            if not hmac.compare_digest(anchor.digest(key), stored):
                return fail(call_id, "the retention anchor before this call was altered")
            if head_id is None:
                expected_prev = anchor.prev_hash
        if row.get("hash") is None:
            return fail(call_id, "this call has no hash (written outside the gateway)")
        if row.get("prev_hash") != expected_prev:
            return fail(call_id, "the call before this one was removed, inserted or reordered")
        if row.get("purged_at") is None:
            if content_hash(row) != row.get("content_hash"):
                return fail(call_id, "the messages, response or error of this call were edited")
        else:
            purged += 1
        expected = link_hash(key, expected_prev, canonical_metadata(row), row["content_hash"])
        if not hmac.compare_digest(expected, str(row["hash"])):
            return fail(call_id, "this call's metadata was edited (or the key is wrong)")
        checked += 1
        head_id, head_hash = call_id, str(row["hash"])
        expected_prev = head_hash
        if checkpoint is not None and (call_id, head_hash) == checkpoint:
            checkpoint_seen = True
    if not checkpoint_seen and checkpoint is not None:
        return fail(checkpoint[0], "the checkpointed head is gone: calls were removed at the end")
    return ChainReport(checked, purged, head_id, head_hash, None)
