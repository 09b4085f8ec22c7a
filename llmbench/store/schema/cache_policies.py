"""m021: a prompt's response-cache policy, shipped from the optimizer's exact-cache candidate:
the SDK's calls of that prompt use the gateway's exact cache unless the call says otherwise.
A released migration is never edited: add a new step."""

from __future__ import annotations

from sqlite_utils import Database


def m021_cache_policies(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE cache_policies (
            prompt_id INTEGER PRIMARY KEY REFERENCES prompts(id),
            mode TEXT NOT NULL CHECK (mode IN ('exact')),
            set_at TEXT NOT NULL,
            set_by TEXT NOT NULL DEFAULT ''
        )
        """
    )
