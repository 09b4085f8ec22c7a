"""Explicit and implicit user feedback on calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmbench.store.timestamps import utc_now

if TYPE_CHECKING:
    from sqlite_utils import Database


def add_feedback(
    db: Database, call_id: int, kind: str, value: float | None, comment: str = ""
) -> int:
    return int(
        db.execute(
            "INSERT INTO feedback (call_id, kind, value, comment, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [call_id, kind, value, comment, utc_now()],
        ).lastrowid
    )


def call_id_for_request(db: Database, request_id: str) -> int | None:
    """The answering (last) attempt of a request."""
    row = db.execute(
        "SELECT id FROM calls WHERE request_id = ? ORDER BY attempt DESC LIMIT 1", [request_id]
    ).fetchone()
    return None if row is None else int(row[0])
