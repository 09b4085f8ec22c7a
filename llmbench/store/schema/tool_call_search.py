"""m013: tool calls in evaluations and in the calls' search.

- `results.tool_calls`: the tool calls a cell's answer made (a JSON list of {"id", "name",
  "arguments"}, as `calls.tool_calls` holds them; NULL for an answer without any), so checks
  and F3 see what a model did when it answered with tools rather than text.
- `calls_fts` indexes the calls' `tool_calls` too (tool names and arguments), still declared
  `content="calls"` as Datasette detects it. An FTS5 table cannot take a new column: it is
  declared anew and filled from `calls` (the watermark set to the last call), and the delete
  and update triggers, which must hand FTS5 the very values it indexed, name the column too.

A released migration is never edited: add a new step instead.
"""

from __future__ import annotations

from sqlite_utils import Database

# Repeated here rather than imported: a released step must not change when the module that
# keeps the index does.
_WATERMARK = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_indexed_through')"
_OPTIONS = 'content="calls", content_rowid="id", tokenize="unicode61"'
_COLUMNS = "messages, response, tool_calls"

_STEPS = (
    "ALTER TABLE results ADD COLUMN tool_calls TEXT"
    " CHECK (tool_calls IS NULL OR json_valid(tool_calls))",
    "DROP TRIGGER IF EXISTS calls_fts_delete",
    "DROP TRIGGER IF EXISTS calls_fts_update",
    "DROP TABLE calls_fts",
    f"CREATE VIRTUAL TABLE calls_fts USING fts5({_COLUMNS}, {_OPTIONS})",
    f"INSERT INTO calls_fts (rowid, {_COLUMNS}) SELECT id, {_COLUMNS} FROM calls",
    """INSERT OR REPLACE INTO meta (key, value)
        SELECT 'search_indexed_through', coalesce(max(id), 0) FROM calls""",
    f"""CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls
    WHEN old.id <= {_WATERMARK}
    BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, old.messages, old.response, old.tool_calls);
    END""",
    f"""CREATE TRIGGER calls_fts_update AFTER UPDATE OF {_COLUMNS} ON calls
    WHEN old.id <= {_WATERMARK}
    BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, old.messages, old.response, old.tool_calls);
        INSERT INTO calls_fts (rowid, {_COLUMNS})
        VALUES (new.id, new.messages, new.response, new.tool_calls);
    END""",
)


def m013_tool_calls_in_results_and_search(db: Database) -> None:
    # One statement at a time, not executescript: that would commit the migration's
    # transaction first, and a process killed half-way would leave the calls without an index.
    for statement in _STEPS:
        db.execute(statement)
