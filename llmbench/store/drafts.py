"""Drafts: what is being typed and not yet saved (the prompt editor's text, a grade in progress
and its note, a dialog's fields), one row per key, kept until the work is saved or discarded.

Writers run inside a writer job (`Store.submit`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlite_utils import Database

from llmbench.store.timestamps import utc_now

DraftKind = Literal["editor", "grade", "dialog"]


@dataclass(frozen=True)
class StoredDraft:
    key: str
    kind: str
    body: dict[str, Any]
    updated_at: str


def save_draft(db: Database, key: str, kind: DraftKind, body: Mapping[str, Any]) -> None:
    db.execute(
        "INSERT INTO drafts (key, kind, body, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, body = excluded.body,"
        " updated_at = excluded.updated_at",
        [key, kind, json.dumps(dict(body), ensure_ascii=False), utc_now()],
    )


def delete_draft(db: Database, key: str) -> None:
    db.execute("DELETE FROM drafts WHERE key = ?", [key])


def get_draft(db: Database, key: str) -> StoredDraft | None:
    row = db.execute(
        "SELECT key, kind, body, updated_at FROM drafts WHERE key = ?", [key]
    ).fetchone()
    return None if row is None else _stored(row)


def drafts_under(db: Database, prefix: str) -> list[StoredDraft]:
    """Every draft whose key starts with `prefix`, oldest first."""
    rows = db.execute(
        "SELECT key, kind, body, updated_at FROM drafts WHERE key >= ? AND key < ?"
        " ORDER BY updated_at, key",
        [prefix, prefix + "\uffff"],
    ).fetchall()
    return [_stored(row) for row in rows]


def _stored(row: Any) -> StoredDraft:
    try:
        body = json.loads(row[2])
    except json.JSONDecodeError:  # the CHECK keeps this out; a hand-edited file may not
        body = {}
    return StoredDraft(row[0], row[1], body if isinstance(body, dict) else {}, row[3])
