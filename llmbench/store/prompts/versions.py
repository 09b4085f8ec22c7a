"""Prompts, their immutable versions, movable labels (every move audited) and notes.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmbench.core.models import Example, Prompt, PromptVersion, Variable
from llmbench.core.prompts.caching import cacheable_of
from llmbench.store.prompts.names import prompt_name_problem
from llmbench.store.schema.vocabulary import NOTE_KINDS
from llmbench.store.timestamps import utc_now

if TYPE_CHECKING:  # F2's history reads on a plain sqlite3 connection (no sqlite_utils to load)
    import sqlite3

    from sqlite_utils import Database

    Reader = Database | sqlite3.Connection


class PromptError(ValueError):
    """A prompt operation that would break the model's rules (wrong prompt, unknown kind...)."""


def create_prompt(
    db: Database,
    name: str,
    *,
    description: str = "",
    tags: Sequence[str] = (),
    created_at: str | None = None,
) -> int:
    if problem := prompt_name_problem(name):
        raise PromptError(problem)
    cursor = db.execute(
        "INSERT INTO prompts (name, description, tags, created_at) VALUES (?, ?, ?, ?)",
        [name, description, json.dumps(list(tags)), created_at or utc_now()],
    )
    return int(cursor.lastrowid)


def add_version(
    db: Database,
    prompt_id: int,
    sections: Mapping[str, str],
    *,
    variables: Sequence[Variable] = (),
    model: str = "",
    params: Mapping[str, Any] | None = None,
    author: str = "",
    message: str = "",
    parent_id: int | None = None,
    created_at: str | None = None,
    examples: Sequence[Example] = (),
    few_shot_k: int | None = None,
    cacheable: Sequence[str] = (),
) -> int:
    """Save a new version numbered after the prompt's latest. Versions are never edited.
    `cacheable`: the sections marked for the provider's prompt cache."""
    if parent_id is not None:
        _require_version_of(db, prompt_id, parent_id)
    (latest,) = db.execute(
        "SELECT coalesce(max(version), 0) FROM prompt_versions WHERE prompt_id = ?", [prompt_id]
    ).fetchone()
    cursor = db.execute(
        "INSERT INTO prompt_versions (prompt_id, version, sections, variables, model, params,"
        " author, message, created_at, parent_id, examples, few_shot_k, cacheable)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            prompt_id,
            latest + 1,
            json.dumps(dict(sections)),
            json.dumps([variable.to_json() for variable in variables]),
            model,
            json.dumps(dict(params or {})),
            author,
            message,
            created_at or utc_now(),
            parent_id,
            json.dumps([example.to_json() for example in examples]),
            few_shot_k,
            json.dumps(list(cacheable_of(cacheable))),
        ],
    )
    return int(cursor.lastrowid)


def _require_version_of(db: Database, prompt_id: int, version_id: int) -> None:
    row = db.execute("SELECT prompt_id FROM prompt_versions WHERE id = ?", [version_id]).fetchone()
    if row is None:
        raise PromptError(f"version {version_id} does not exist")
    if row[0] != prompt_id:
        raise PromptError(f"version {version_id} belongs to another prompt")


def set_label(
    db: Database,
    prompt_id: int,
    label: str,
    version_id: int,
    *,
    moved_by: str = "",
    moved_at: str | None = None,
) -> int:
    """Point `label` at a version of the same prompt; the move is recorded in label_moves.
    Returns the label_moves row id."""
    _require_version_of(db, prompt_id, version_id)
    when = moved_at or utc_now()
    current = db.execute(
        "SELECT version_id FROM prompt_labels WHERE prompt_id = ? AND label = ?",
        [prompt_id, label],
    ).fetchone()
    db.execute(
        "INSERT INTO prompt_labels (prompt_id, label, version_id, moved_at, moved_by)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (prompt_id, label) DO UPDATE SET"
        " version_id = excluded.version_id, moved_at = excluded.moved_at,"
        " moved_by = excluded.moved_by",
        [prompt_id, label, version_id, when, moved_by],
    )
    cursor = db.execute(
        "INSERT INTO label_moves (prompt_id, label, from_version_id, to_version_id, moved_by,"
        " moved_at) VALUES (?, ?, ?, ?, ?, ?)",
        [prompt_id, label, current[0] if current else None, version_id, moved_by, when],
    )
    return int(cursor.lastrowid)


def add_note(
    db: Database,
    prompt_id: int,
    kind: str,
    text: str,
    *,
    version_id: int | None = None,
    author: str = "",
    created_at: str | None = None,
) -> int:
    if kind not in NOTE_KINDS:
        raise PromptError(f"unknown note kind {kind!r}; use one of {', '.join(NOTE_KINDS)}")
    if version_id is not None:
        _require_version_of(db, prompt_id, version_id)
    cursor = db.execute(
        "INSERT INTO prompt_notes (prompt_id, version_id, kind, text, author, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [prompt_id, version_id, kind, text, author, created_at or utc_now()],
    )
    return int(cursor.lastrowid)


# -- readers -------------------------------------------------------------------------------


def _prompt_where(db: Reader, column: str, value: object) -> Prompt | None:
    row = db.execute(
        f"SELECT id, name, description, tags FROM prompts WHERE {column} = ?", [value]
    ).fetchone()
    if row is None:
        return None
    return Prompt(id=row[0], name=row[1], description=row[2], tags=tuple(json.loads(row[3])))


def get_prompt(db: Database, name: str) -> Prompt | None:
    return _prompt_where(db, "name", name)


def get_prompt_by_id(db: Reader, prompt_id: int) -> Prompt | None:
    return _prompt_where(db, "id", prompt_id)


VERSION_COLUMNS = (
    "id, prompt_id, version, sections, variables, model, params, author, message, created_at,"
    " parent_id, examples, few_shot_k, cacheable"
)


def version_from_row(row: Sequence[Any]) -> PromptVersion:
    """A PromptVersion from a row selected with VERSION_COLUMNS."""
    return PromptVersion(
        id=row[0],
        prompt_id=row[1],
        version=row[2],
        sections=json.loads(row[3]),
        variables=tuple(Variable.from_json(item) for item in json.loads(row[4])),
        model=row[5],
        params=json.loads(row[6]),
        author=row[7],
        message=row[8],
        created_at=row[9],
        parent_id=row[10],
        examples=tuple(Example.from_json(item) for item in json.loads(row[11])),
        few_shot_k=row[12],
        cacheable=tuple(json.loads(row[13])),
    )


def list_versions(db: Reader, prompt_id: int) -> list[PromptVersion]:
    rows = db.execute(
        f"SELECT {VERSION_COLUMNS} FROM prompt_versions WHERE prompt_id = ? ORDER BY version",
        [prompt_id],
    ).fetchall()
    return [version_from_row(row) for row in rows]


def get_version(db: Reader, version_id: int) -> PromptVersion | None:
    row = db.execute(
        f"SELECT {VERSION_COLUMNS} FROM prompt_versions WHERE id = ?", [version_id]
    ).fetchone()
    return None if row is None else version_from_row(row)


def labels(db: Reader, prompt_id: int) -> dict[str, int]:
    """Label name -> version id."""
    return {
        row[0]: row[1]
        for row in db.execute(
            "SELECT label, version_id FROM prompt_labels WHERE prompt_id = ? ORDER BY label",
            [prompt_id],
        )
    }


def resolve_version(db: Database, name: str, ref: str | int = "production") -> PromptVersion:
    """A prompt's version by label (e.g. 'production') or number; LookupError says what exists."""
    prompt = get_prompt(db, name)
    if prompt is None:
        raise LookupError(f"no prompt named {name!r}")
    versions = {v.id: v for v in list_versions(db, prompt.id)}
    if isinstance(ref, int) or str(ref).isdigit():
        for version in versions.values():
            if version.version == int(ref):
                return version
        raise LookupError(f"{name} has no version {ref} (it has {len(versions)})")
    found = labels(db, prompt.id)
    if ref not in found:
        raise LookupError(f"{name} has no label {ref!r} (labels: {', '.join(found) or 'none'})")
    return versions[found[str(ref)]]
