"""What an import of other tools' calls asks the log: which request ids it already holds, so a
call is never imported twice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database


def existing_request_ids(db: Database, request_ids: Sequence[str]) -> set[str]:
    """Which of these request ids the audit log already holds (on the calls_request index)."""
    found: set[str] = set()
    for start in range(0, len(request_ids), 500):
        chunk = list(request_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        found.update(
            row[0]
            for row in db.execute(
                f"SELECT DISTINCT request_id FROM calls WHERE request_id IN ({marks})", chunk
            ).fetchall()
        )
    return found
