"""m010: the drafts table, where what is being typed (the prompt editor's sections, a grade in
progress with its note, a dialog's fields) is kept until it is saved or discarded, so quitting
or a crash loses nothing. A released migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database


def m010_drafts(db: Database) -> None:
    # One row per thing being typed, named by its key ("editor:12", "grade:1:normal:maria:
    # result:7", "dialog:new-prompt"); the body is whatever that screen needs to restore it.
    # Saving or discarding the work deletes the row.
    db.executescript(
        """
        CREATE TABLE drafts (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('editor', 'grade', 'dialog')),
            body TEXT NOT NULL CHECK (json_valid(body)),
            updated_at TEXT NOT NULL
        );
        """
    )
