"""m009: the calls' search index declared the way other tools recognise it, and kept by the
store's writer (`store/audit/search_index.py`) instead of a trigger on every insert.

- Datasette finds a table's FTS index by its declaration, `content="calls"` or
  `content=[calls]`; m001 wrote `content='calls'`, so `?_search=` on calls matched every row.
  The two declarations mean the same to FTS5 (the same options, quoted otherwise), so the
  index's contents stay as they are and only the declaration's text is rewritten: instant,
  where dropping and refilling the index took 33 s for a million demo calls (608 MB of text).
  A SQLite that refuses schema edits (defensive mode) gets that rebuild instead.
- The insert trigger goes: the writer indexes new calls after the batch that acknowledged
  them. The watermark in `meta` says which calls the index holds; the delete and update
  triggers act only on those.

A released migration is never edited.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

# Repeated here rather than imported: a released step must not change when the module that
# keeps the index does.
_WATERMARK = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'search_indexed_through')"
_M001_OPTIONS = "content='calls', content_rowid='id', tokenize='unicode61'"
_OPTIONS = 'content="calls", content_rowid="id", tokenize="unicode61"'

_REBUILD = (
    "DROP TABLE calls_fts",
    f"CREATE VIRTUAL TABLE calls_fts USING fts5(messages, response, {_OPTIONS})",
    "INSERT INTO calls_fts (rowid, messages, response) SELECT id, messages, response FROM calls",
)
_KEPT_BY_THE_WRITER = (
    "DROP TRIGGER calls_fts_insert",
    "DROP TRIGGER calls_fts_delete",
    "DROP TRIGGER calls_fts_update",
    """INSERT INTO meta (key, value)
        SELECT 'search_indexed_through', coalesce(max(id), 0) FROM calls""",
    # Calls above the watermark are not in the index yet: nothing to take out of it (an FTS5
    # 'delete' of a row the index never held damages it).
    f"""CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls
    WHEN old.id <= {_WATERMARK}
    BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, messages, response)
        VALUES ('delete', old.id, old.messages, old.response);
    END""",
    f"""CREATE TRIGGER calls_fts_update AFTER UPDATE OF messages, response ON calls
    WHEN old.id <= {_WATERMARK}
    BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, messages, response)
        VALUES ('delete', old.id, old.messages, old.response);
        INSERT INTO calls_fts (rowid, messages, response)
        VALUES (new.id, new.messages, new.response);
    END""",
)


def m009_search_index_kept_by_the_writer(db: Database) -> None:
    # One statement at a time, not executescript: that would commit the migration's
    # transaction first, and a process killed half-way would leave the calls without an index.
    # The index is declared anew first; the triggers' changes make every connection read the
    # schema again when this transaction commits.
    if not redeclared_in_place(db.conn):
        for statement in _REBUILD:
            db.execute(statement)
    for statement in _KEPT_BY_THE_WRITER:
        db.execute(statement)


def redeclared_in_place(conn: sqlite3.Connection) -> bool:
    """Rewrite the index's declaration from m001's quoting to Datasette's, leaving its contents
    as they are; False when SQLite refuses to edit its schema (the caller rebuilds)."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'calls_fts'"
    ).fetchone()
    if row is None or _M001_OPTIONS not in row[0]:
        return False
    try:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'calls_fts'",
            [row[0].replace(_M001_OPTIONS, _OPTIONS)],
        )
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    return True
