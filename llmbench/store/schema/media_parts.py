"""m015: the image, audio and file parts a call's request sent, one row each: kind, media type,
size, an image's pixels, the SHA-256 of the bytes (or of the URL or file id when only that was
sent), and the bytes themselves only when `[retention] keep_media_bytes` is on. The stored
request keeps a reference (`llmbench-part:<n>:sha256:<hex>`) in place of the bytes, sealed
with the call, so a part's row can be checked against what the chain vouches for. A released
migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database

from llmbench.core.media import PART_KINDS, PART_SOURCES


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def m015_media_parts(db: Database) -> None:
    # Not part of the seal: the reference in the sealed messages carries each part's hash.
    # Deleted with its call (retention's deletes remove a prefix of the chain); `data` is
    # emptied when retention purges the call's bodies.
    db.execute(
        f"""
        CREATE TABLE call_parts (
            call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 1),
            message_index INTEGER NOT NULL CHECK (message_index >= 0),
            kind TEXT NOT NULL CHECK ({_one_of("kind", PART_KINDS)}),
            source TEXT NOT NULL CHECK ({_one_of("source", PART_SOURCES)}),
            media_type TEXT,
            byte_size INTEGER CHECK (byte_size IS NULL OR byte_size >= 0),
            width INTEGER CHECK (width IS NULL OR width > 0),
            height INTEGER CHECK (height IS NULL OR height > 0),
            detail TEXT,
            name TEXT,
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
            tokens INTEGER CHECK (tokens IS NULL OR tokens >= 0),
            data BLOB,
            PRIMARY KEY (call_id, position)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX call_parts_sha256 ON call_parts (sha256)")
