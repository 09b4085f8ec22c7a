"""The exact response cache: model + rendered messages + params → the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


def get_cached(db: Database, key: str, now: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT response FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
        [key, now],
    ).fetchone()
    return None if row is None else json.loads(row[0])


def put_cached(
    db: Database, key: str, model: str, response: dict[str, Any], now: str, expires_at: str
) -> None:
    db.execute(
        "INSERT INTO cache (key, model, response, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET response = excluded.response,"
        " created_at = excluded.created_at, expires_at = excluded.expires_at, hits = 0",
        [key, model, json.dumps(response), now, expires_at],
    )


def count_hit(db: Database, key: str) -> None:
    db.execute("UPDATE cache SET hits = hits + 1 WHERE key = ?", [key])
