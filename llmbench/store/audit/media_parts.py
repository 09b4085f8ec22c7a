"""The parts a call's request sent (`call_parts`, m015): written in the writer job that appends
the call, read for F6's detail, their kept bytes emptied by retention with the call's body."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.core.media import MediaPart, PartKind, PartSource

_COLUMNS = (
    "call_id", "position", "message_index", "kind", "source", "media_type", "byte_size",
    "width", "height", "detail", "name", "sha256", "tokens", "data",
)  # fmt: skip
_INSERT = (
    f"INSERT OR IGNORE INTO call_parts ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


@dataclass(frozen=True)
class StoredPart:
    """One recorded part: the core's MediaPart with its call and estimated tokens."""

    call_id: int
    part: MediaPart
    tokens: int | None
    kept_bytes: bool


def insert_parts(
    db: Database, call_id: int, parts: Sequence[MediaPart], tokens: Sequence[int | None] = ()
) -> None:
    """Record a call's parts (inside the writer job that appended it). A part's bytes are
    stored when it carries them (the keep-bytes setting made the recorder keep them)."""
    estimates = list(tokens) + [None] * (len(parts) - len(tokens))
    db.conn.executemany(
        _INSERT,
        [
            (
                call_id, part.position, part.message_index, part.kind, part.source,
                part.media_type, part.byte_size, part.width, part.height, part.detail,
                part.name, part.sha256, estimate, part.data,
            )
            for part, estimate in zip(parts, estimates, strict=True)
        ],
    )  # fmt: skip


def insert_request_parts(
    db: Database,
    request_id: str,
    attempt: int,
    parts: Sequence[MediaPart],
    tokens: Sequence[int | None] = (),
) -> int:
    """Record the parts of a call appended without them (the demo's build), found by its
    request and attempt; its id."""
    (call_id,) = db.execute(
        "SELECT id FROM calls WHERE request_id = ? AND attempt = ?", [request_id, attempt]
    ).fetchone()
    insert_parts(db, int(call_id), parts, tokens)
    return int(call_id)


def parts_of(db: Database, call_id: int) -> list[StoredPart]:
    """A call's parts in the order its request sent them (no bytes read: only whether kept)."""
    try:
        rows = db.execute(
            "SELECT position, message_index, kind, source, media_type, byte_size, width, height,"
            " detail, name, sha256, tokens, data IS NOT NULL FROM call_parts WHERE call_id = ?"
            " ORDER BY position",
            [call_id],
        ).fetchall()
    except sqlite3.OperationalError:  # a file opened read-only before m015: no parts table
        return []
    return [
        StoredPart(
            call_id,
            MediaPart(
                position=int(row[0]),
                message_index=int(row[1]),
                kind=_kind(row[2]),
                source=_source(row[3]),
                media_type=row[4],
                byte_size=row[5],
                width=row[6],
                height=row[7],
                detail=row[8],
                name=row[9],
                sha256=str(row[10]),
            ),
            row[11],
            bool(row[12]),
        )
        for row in rows
    ]


def part_bytes(db: Database, call_id: int, position: int) -> bytes | None:
    """The bytes kept for one part, or None (not kept, or purged)."""
    row = db.execute(
        "SELECT data FROM call_parts WHERE call_id = ? AND position = ?", [call_id, position]
    ).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def drop_kept_bytes(db: Database, call_ids: Iterable[tuple[int, int]]) -> int:
    """Empty the kept bytes of the calls in these inclusive id runs (retention purging their
    bodies); how many parts lost theirs."""
    dropped = 0
    for first, last in call_ids:
        dropped += db.execute(
            "UPDATE call_parts SET data = NULL WHERE call_id BETWEEN ? AND ? AND data IS NOT NULL",
            [first, last],
        ).rowcount
    return dropped


def _kind(value: object) -> PartKind:
    return "audio" if value == "audio" else "file" if value == "file" else "image"


def _source(value: object) -> PartSource:
    return "url" if value == "url" else "file_id" if value == "file_id" else "data"
