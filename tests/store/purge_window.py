"""Opening the audit log's purge window the way llmbench's purge does, for tests that change
calls under it directly: a purge record whose token the window then carries."""

from __future__ import annotations

import secrets
from typing import Any


def open_purge_window(db: Any, reason: str) -> str:
    """Insert a purge record (with a stand-in HMAC: verification would call it forged) and
    open the window with its token; the caller deletes the purge_window row to close it."""
    token = secrets.token_hex(16)
    db.execute(
        "INSERT INTO chain_purges (token, purged_at, calls, redacted, reason, hash)"
        " VALUES (?, '2000-01-01T00:00:00.000Z', '[]', 0, ?, 'test')",
        [token, reason],
    )
    db.execute("INSERT INTO purge_window (id, reason, token) VALUES (1, ?, ?)", [reason, token])
    return token
