"""m017: the sections a prompt version marks cacheable (provider prompt caching), part of the
immutable version like its sections. A released migration is never edited: add a new step."""

from __future__ import annotations

from sqlite_utils import Database


def m017_cacheable_sections(db: Database) -> None:
    # A JSON list of section names, in section order; every version saved before marks none.
    # (A column, not a key of `params`: params are sent to the model as they are.)
    db.execute(
        "ALTER TABLE prompt_versions ADD COLUMN cacheable TEXT NOT NULL DEFAULT '[]'"
        " CHECK (json_valid(cacheable) AND json_type(cacheable) = 'array')"
    )
