"""m018: a case's own request params (its `tools` and `tool_choice`, from a dataset file), sent
by every cell of that case over the run's. A released migration is never edited: add a new
step."""

from __future__ import annotations

from sqlite_utils import Database


def m018_case_params(db: Database) -> None:
    # A JSON object; every case saved before sends none of its own.
    db.execute(
        "ALTER TABLE cases ADD COLUMN params TEXT NOT NULL DEFAULT '{}'"
        " CHECK (json_valid(params) AND json_type(params) = 'object')"
    )
