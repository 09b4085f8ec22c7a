"""Each prompt's own guard policy (`llmbench prompts guard`), read over the config's [guard].

A policy is kept in the plain form core.guard_policy.parse_policy reads, so what is stored is
exactly what the user set (the defaults it is read over may change later). Write functions run
inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class StoredPolicy:
    prompt_id: int
    prompt: str
    policy: dict[str, Any]
    updated_at: str
    updated_by: str


def set_guard_policy(
    db: Database, prompt_id: int, policy: Mapping[str, Any], now: str, by: str = ""
) -> None:
    """Replace the prompt's policy with `policy` (plain data, already checked by the caller)."""
    db.execute(
        "INSERT INTO guard_policies (prompt_id, policy, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (prompt_id) DO UPDATE SET"
        " policy = excluded.policy, updated_at = excluded.updated_at,"
        " updated_by = excluded.updated_by",
        [prompt_id, json.dumps(dict(policy), sort_keys=True), now, by],
    )


def delete_guard_policy(db: Database, prompt_id: int) -> bool:
    return db.execute("DELETE FROM guard_policies WHERE prompt_id = ?", [prompt_id]).rowcount > 0


def get_guard_policy(db: Database, prompt_id: int) -> StoredPolicy | None:
    rows = _stored(db, "WHERE g.prompt_id = ?", [prompt_id])
    return rows[0] if rows else None


def list_guard_policies(db: Database) -> list[StoredPolicy]:
    return _stored(db, "", [])


def policy_of_version(db: Database, version_id: int) -> dict[str, Any] | None:
    """The stored policy of the prompt a version belongs to, or None when it has none."""
    row = db.execute(
        "SELECT g.policy FROM prompt_versions v JOIN guard_policies g ON g.prompt_id = v.prompt_id"
        " WHERE v.id = ?",
        [version_id],
    ).fetchone()
    return _plain(row[0]) if row else None


def _stored(db: Database, where: str, params: list[Any]) -> list[StoredPolicy]:
    return [
        StoredPolicy(int(row[0]), str(row[1]), _plain(row[2]), str(row[3]), str(row[4]))
        for row in db.execute(
            "SELECT g.prompt_id, p.name, g.policy, g.updated_at, g.updated_by"
            f" FROM guard_policies g JOIN prompts p ON p.id = g.prompt_id {where}"
            " ORDER BY p.name",
            params,
        )
    ]


def _plain(text: str) -> dict[str, Any]:
    # json_valid is checked on write; a row edited by hand into a list is treated as empty and
    # reported by parse_policy's caller, not here.
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
