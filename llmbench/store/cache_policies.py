"""A prompt's response-cache policy (m021): which of the gateway's cache modes its SDK calls use
by default, shipped from the optimizer's exact-cache candidate."""

from __future__ import annotations

from sqlite_utils import Database

from llmbench.store.timestamps import utc_now


def set_policy(
    db: Database, prompt_id: int, mode: str, *, set_at: str | None = None, set_by: str = ""
) -> None:
    db.execute(
        "INSERT INTO cache_policies (prompt_id, mode, set_at, set_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (prompt_id) DO UPDATE SET mode = excluded.mode, set_at = excluded.set_at,"
        " set_by = excluded.set_by",
        [prompt_id, mode, set_at or utc_now(), set_by],
    )


def clear_policy(db: Database, prompt_id: int) -> None:
    db.execute("DELETE FROM cache_policies WHERE prompt_id = ?", [prompt_id])


def policy_for(db: Database, prompt_name: str) -> str | None:
    """The cache mode the prompt's calls use by default; None when it has none (or is no
    prompt)."""
    row = db.execute(
        "SELECT c.mode FROM cache_policies c JOIN prompts p ON p.id = c.prompt_id WHERE p.name = ?",
        [prompt_name],
    ).fetchone()
    return None if row is None else str(row[0])
