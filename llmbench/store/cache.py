"""The response cache: an answer under its exact key, its normalised (near-duplicate) key, and
for semantic lookups the scope and the embedding of the last user message."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

_LIVE = "(expires_at IS NULL OR expires_at > ?)"


def get_cached(db: Database, key: str, now: str) -> dict[str, Any] | None:
    """The live answer under the exact key."""
    row = db.execute(f"SELECT response FROM cache WHERE key = ? AND {_LIVE}", [key, now]).fetchone()
    return None if row is None else json.loads(row[0])


def get_near_duplicate(
    db: Database, normalised_key: str, now: str
) -> tuple[str, dict[str, Any]] | None:
    """The newest live entry under the normalised key: (its exact key, answer)."""
    row = db.execute(
        f"SELECT key, response FROM cache WHERE normalised_key = ? AND {_LIVE}"
        " ORDER BY created_at DESC LIMIT 1",
        [normalised_key, now],
    ).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def semantic_candidates(
    db: Database, scope: str, now: str, limit: int
) -> list[tuple[str, str, bytes]]:
    """The newest `limit` live entries of a scope that carry an embedding: (key, answer JSON,
    packed vector)."""
    return db.execute(
        f"SELECT key, response, embedding FROM cache WHERE scope = ? AND embedding IS NOT NULL"
        f" AND {_LIVE} ORDER BY created_at DESC LIMIT ?",
        [scope, now, limit],
    ).fetchall()


def put_cached(
    db: Database,
    key: str,
    model: str,
    response: dict[str, Any],
    now: str,
    expires_at: str,
    *,
    normalised_key: str | None = None,
    scope: str | None = None,
    embedding: bytes | None = None,
) -> None:
    db.execute(
        "INSERT INTO cache (key, model, response, created_at, expires_at, normalised_key, scope,"
        " embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET response = excluded.response,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at, hits = 0,"
        " normalised_key = coalesce(excluded.normalised_key, normalised_key),"
        " scope = coalesce(excluded.scope, scope),"
        " embedding = coalesce(excluded.embedding, embedding)",
        [key, model, json.dumps(response), now, expires_at, normalised_key, scope, embedding],
    )


def count_hit(db: Database, key: str) -> None:
    db.execute("UPDATE cache SET hits = hits + 1 WHERE key = ?", [key])
