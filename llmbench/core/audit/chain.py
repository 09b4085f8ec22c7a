"""The tamper-evident chain over the audit log.

Each call's hash is an HMAC-SHA256, keyed with a secret kept outside the database, over the
previous call's hash, the call's canonical metadata and the SHA-256 of its content (messages,
response, error). Retention can therefore purge bodies — the content hash stays — and the chain
still verifies; editing, removing or reordering a row breaks it, and without the key nobody can
recompute it.

Two sealed forms exist. Form 1 (every call llmbench wrote before form records existed) is the
HMAC above. Form 2 binds the call to its database too: the message starts with a form tag and
the database's id. A form record (HMAC'd) says from which call a form applies, for which
database and under which key (by its fingerprint), so old rows keep verifying as they were
sealed. What the seal of a row cannot hold, because it changes after sealing, is held by
records of its own under the same key: a purge record names the calls a purge emptied and
when (so `purged_at` is under a MAC), an anchor where retention cut the start of the chain,
and the head recorded beside the key where the chain ended.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

GENESIS = "genesis"
LEGACY_FORM = 1
CURRENT_FORM = 2

FieldKind = Literal["int", "real", "text"]

# Every column of `calls` except the body, the hashes and purged_at, with its SQLite type, so a
# value hashes the same before insert and after a round trip through the database. purged_at
# changes after sealing: the purge record that set it carries it under its own MAC.
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
# Content added after calls were first sealed: hashed only when a row has it, so every row
# sealed before keeps its content hash.
LATER_CONTENT_FIELDS: tuple[str, ...] = ("tool_calls",)
# Metadata added after calls were first sealed (m012: where a call sits in a conversation and a
# trace): part of the canonical metadata only when a row has it, so every row sealed before
# keeps its hash. Kept by a purge, as all metadata is.
LATER_METADATA_FIELDS: dict[str, FieldKind] = {
    "conversation_id": "text",
    "trace_id": "text",
    "parent_request_id": "text",
    # m014: reasoning and cache-write tokens, and the unit prices they were charged at.
    "reasoning_tokens": "int",
    "cache_write_tokens": "int",
    "reasoning_price": "real",
    "cache_write_price": "real",
}

_COERCE = {"int": int, "real": float, "text": str}
# The fields in sorted order with their coercion: building the dict already sorted gives the
# same text as sort_keys=True without sorting 35 keys per call (sealing runs once per call).
_SORTED_FIELDS: tuple[tuple[str, type], ...] = tuple(
    (name, _COERCE[kind]) for name, kind in sorted(METADATA_FIELDS.items())
)
_LATER_METADATA: tuple[tuple[str, type], ...] = tuple(
    (name, _COERCE[kind]) for name, kind in LATER_METADATA_FIELDS.items()
)
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _mac(key: bytes, fields: Sequence[Any]) -> str:
    return hmac.new(key, _canonical(list(fields)).encode(), hashlib.sha256).hexdigest()


def same_digest(expected: str, stored: object) -> bool:
    return isinstance(stored, str) and hmac.compare_digest(expected, stored)


def canonical_metadata(row: Mapping[str, Any]) -> str:
    """The metadata as sorted, compact JSON (the same text as `_canonical` of the coerced
    fields), with the later fields a row has."""
    get = row.get
    fields = {
        name: None if (value := get(name)) is None else (
            value if type(value) is coerce else coerce(value)
        )
        for name, coerce in _SORTED_FIELDS
    }  # fmt: skip
    # Most calls have none: a few lookups (LATER_METADATA_FIELDS), no list built.
    if (
        get("conversation_id") is None
        and get("trace_id") is None
        and (get("parent_request_id") is None)
        and get("reasoning_tokens") is None
        and get("cache_write_tokens") is None
        and get("reasoning_price") is None
        and get("cache_write_price") is None
    ):
        return _encode(fields)
    later = [
        (name, value if type(value) is coerce else coerce(value))
        for name, coerce in _LATER_METADATA
        if (value := get(name)) is not None
    ]
    return _encode(dict(sorted([*fields.items(), *later])))


def content_hash(row: Mapping[str, Any]) -> str:
    body = [row.get(name) for name in CONTENT_FIELDS]
    body += [{name: value} for name in LATER_CONTENT_FIELDS if (value := row.get(name)) is not None]
    return hashlib.sha256(_encode(body).encode()).hexdigest()


def link_hash(key: bytes, prev_hash: str, metadata: str, content: str) -> str:
    """Form 1's seal."""
    message = f"{prev_hash}\n{metadata}\n{content}".encode()
    return hmac.digest(key, message, "sha256").hex()


def form_hash(
    key: bytes, form: int, db_id: str, prev_hash: str, metadata: str, content: str
) -> str:
    """The seal of a row in `form`: form 2 also binds the row to its database."""
    if form == LEGACY_FORM:
        return link_hash(key, prev_hash, metadata, content)
    message = f"llmbench-chain/{form}\n{db_id}\n{prev_hash}\n{metadata}\n{content}".encode()
    return hmac.digest(key, message, "sha256").hex()


def seal(
    key: bytes,
    prev_hash: str,
    row: dict[str, Any],
    *,
    form: int = LEGACY_FORM,
    db_id: str = "",
) -> dict[str, Any]:
    """Set content_hash, prev_hash and hash on a row (which must already carry its id)."""
    row["content_hash"] = content_hash(row)
    row["prev_hash"] = prev_hash
    row["hash"] = form_hash(
        key, form, db_id, prev_hash, canonical_metadata(row), row["content_hash"]
    )
    return row


def row_seal_matches(key: bytes, form: int, db_id: str, row: Mapping[str, Any]) -> bool:
    """Whether a stored row's hash is the seal of its stored prev_hash, metadata and content
    hash (whatever its body holds now)."""
    prev, content, stored = row.get("prev_hash"), row.get("content_hash"), row.get("hash")
    if not isinstance(prev, str) or not isinstance(content, str):
        return False
    return same_digest(form_hash(key, form, db_id, prev, canonical_metadata(row), content), stored)


def key_id(key: bytes) -> str:
    """A key's public fingerprint: names a key in records and messages, reveals nothing."""
    return hashlib.sha256(b"llmbench audit-chain key id\n" + key).hexdigest()[:16]


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Ascending ids as inclusive [first, last] runs: a purge's calls in little space."""
    runs: list[list[int]] = []
    for call_id in ids:
        if runs and call_id == runs[-1][1] + 1:
            runs[-1][1] = call_id
        else:
            runs.append([call_id, call_id])
    return runs


@dataclass(frozen=True)
class Anchor:
    """Where retention removed the start of the chain."""

    first_kept_call_id: int
    prev_hash: str
    deleted: int
    reason: str
    created_at: str

    def digest(self, key: bytes) -> str:
        return _mac(
            key,
            [
                "anchor",
                self.first_kept_call_id,
                self.prev_hash,
                self.deleted,
                self.reason,
                self.created_at,
            ],
        )


@dataclass(frozen=True)
class FormRecord:
    """From `first_call_id` on, calls are sealed in `form`, for database `db_id`, under the key
    whose fingerprint is `key_id`."""

    form: int
    first_call_id: int
    db_id: str
    key_id: str
    created_at: str

    def digest(self, key: bytes) -> str:
        return _mac(
            key, ["form", self.form, self.first_call_id, self.db_id, self.key_id, self.created_at]
        )


@dataclass(frozen=True)
class PurgeRecord:
    """One purge by llmbench: the calls whose bodies it emptied (as id runs) and the
    purged_at it gave them, the calls it deleted, and the one-time token that opened the
    purge window for it."""

    token: str
    purged_at: str
    calls: tuple[tuple[int, int], ...]
    redacted: int
    deleted_through: int | None
    reason: str
    db_id: str

    def digest(self, key: bytes) -> str:
        return _mac(
            key,
            [
                "purge",
                self.db_id,
                self.token,
                self.purged_at,
                [list(run) for run in self.calls],
                self.redacted,
                self.deleted_through,
                self.reason,
            ],
        )


@dataclass(frozen=True)
class ChainHead:
    """Where the chain ended when llmbench last committed calls: kept beside the key, outside
    the database, so a cut tail or a log emptied or resealed shows."""

    db_id: str
    call_id: int
    count: int
    hash: str
    form_first_call_id: int | None = None

    def digest(self, key: bytes) -> str:
        return _mac(
            key,
            ["head", self.db_id, self.call_id, self.count, self.hash, self.form_first_call_id],
        )


TamperKind = Literal[
    "no-seal",
    "body-edited",
    "metadata-edited",
    "forged-purge",
    "deleted",
    "deleted-start",
    "reordered",
    "forged-append",
    "resealed",
    "key-fork",
    "cut-tail",
    "deleted-all",
    "head-replaced",
    "db-id-edited",
    "anchor-altered",
    "form-altered",
    "head-altered",
]


@dataclass(frozen=True)
class ChainProblem:
    call_id: int
    reason: str
    kind: TamperKind = "metadata-edited"
    where: str = ""
    """What the reason is about when it is not a call (e.g. meta.db_id)."""

    @property
    def place(self) -> str:
        return self.where or f"call {self.call_id}"


HeadCheck = Literal["matched", "none", "recorded", "not-checked"]


@dataclass(frozen=True)
class ChainReport:
    checked: int
    purged_bodies: int
    head_id: int | None
    head_hash: str | None
    problem: ChainProblem | None
    head_check: HeadCheck = "not-checked"
    """How the head recorded beside the key compared: matched (the log reaches it, and any
    calls after it verify), none (nothing recorded), recorded (nothing was: recorded now),
    not-checked (a problem came first)."""
    unrecorded_purges: int = 0
    """Purged calls from before purges were recorded (a log never written in form 2)."""
    deleted_by_retention: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def empty(self) -> bool:
        return self.checked == 0 and self.problem is None
