"""m011: the tool calls an answer made, kept beside its text. An answer that only called tools
was stored as an empty response; a caller of the SDK could not see the calls at all. A released
migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database


def m011_tool_calls(db: Database) -> None:
    # A JSON list of {"id", "name", "arguments"} in the order the model made them (arguments as
    # the model wrote them: a JSON text that may not parse). NULL for an answer without any.
    # Part of the call's sealed content (core.audit.chain.content_hash), emptied by a purge as
    # its messages and response are.
    db.execute(
        "ALTER TABLE calls ADD COLUMN tool_calls TEXT"
        " CHECK (tool_calls IS NULL OR json_valid(tool_calls))"
    )
