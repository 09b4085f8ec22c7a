"""What a reviewer recognises a graded item by: its test case (the case's description, or its
inputs) or the call's last user message, with the prompt version, the model and the run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from llmbench.store.grading.queue import last_user_message


@dataclass(frozen=True)
class ItemFacts:
    key: str  # "result:12" or "call:7"
    description: str | None
    """The test case's `description` tag, when it has one."""
    inputs: dict[str, object]
    """The case's variables, or {"message": the call's last user message}."""
    version: str | None  # "support-reply v4"
    model: str
    run: str | None  # the run's name, or "run 3"


def item_facts(db: Database, keys: Iterable[str]) -> dict[str, ItemFacts]:
    """The facts naming each item of `keys` ("result:12", "call:7"), in two queries."""
    wanted = list(dict.fromkeys(keys))
    result_ids = [int(k.split(":")[1]) for k in wanted if k.startswith("result:")]
    call_ids = [int(k.split(":")[1]) for k in wanted if k.startswith("call:")]
    found: dict[str, ItemFacts] = {}
    if result_ids:
        for row in db.execute(
            f"""
            SELECT res.id, c.vars, c.tags, p.name || ' v' || v.version, res.model,
                   coalesce(nullif(r.name, ''), 'run ' || r.id)
            FROM results res
            JOIN runs r ON r.id = res.run_id
            LEFT JOIN cases c ON c.id = res.case_id
            LEFT JOIN prompt_versions v ON v.id = res.version_id
            LEFT JOIN prompts p ON p.id = v.prompt_id
            WHERE res.id IN ({",".join("?" * len(result_ids))})
            """,
            result_ids,
        ).fetchall():
            key = f"result:{row[0]}"
            found[key] = ItemFacts(
                key=key,
                description=_description(row[2]),
                inputs=_object(row[1]),
                version=row[3],
                model=row[4],
                run=row[5],
            )
    if call_ids:
        for row in db.execute(
            f"""
            SELECT c.id, c.messages, p.name || ' v' || v.version, c.model
            FROM calls c
            LEFT JOIN prompt_versions v ON v.id = c.prompt_version_id
            LEFT JOIN prompts p ON p.id = v.prompt_id
            WHERE c.id IN ({",".join("?" * len(call_ids))})
            """,
            call_ids,
        ).fetchall():
            key = f"call:{row[0]}"
            found[key] = ItemFacts(
                key=key,
                description=None,
                inputs=last_user_message(row[1]),
                version=row[2],
                model=row[3],
                run=None,
            )
    return found


def _object(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return dict(value) if isinstance(value, dict) else {}


def _description(tags_json: str | None) -> str | None:
    described = _object(tags_json).get("description")
    return described.strip() or None if isinstance(described, str) else None
