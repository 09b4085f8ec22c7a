"""m008: what the audit chain's seals could not hold yet — which sealed form applies from which
call, and which calls each purge emptied — and a purge window only llmbench's purge opens."""

from __future__ import annotations

from sqlite_utils import Database

_APPEND_ONLY = "RAISE(ABORT, 'the audit chain''s records are append-only')"


def _append_only(table: str) -> str:
    return f"""
        CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT {_APPEND_ONLY}; END;
        CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT {_APPEND_ONLY}; END;
    """


# The window is open only while purge_window holds the token of the newest purge record, and
# each token opens it once: a bare row, or a replayed token, no longer lets an UPDATE through.
_WINDOW_OPEN = """
    EXISTS (
        SELECT 1 FROM purge_window AS w
        WHERE w.token IS NOT NULL
          AND w.token = (SELECT token FROM chain_purges ORDER BY id DESC LIMIT 1)
    )
"""
_REFUSED = "RAISE(ABORT, 'the audit log is append-only: use llmbench audit purge')"


def m008_chain_forms_and_purge_records(db: Database) -> None:
    db.executescript(
        f"""
        -- From which call on a sealed form applies, for which database and under which key
        -- (its fingerprint); HMAC'd with the key. Written with the first call llmbench seals
        -- in form 2: calls before it keep the form they were sealed in.
        CREATE TABLE chain_forms (
            id INTEGER PRIMARY KEY,
            form INTEGER NOT NULL,
            first_call_id INTEGER NOT NULL,
            db_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        -- One row per purge by llmbench, HMAC'd: the calls whose bodies it emptied (as id runs,
        -- JSON), the purged_at it gave them, what it deleted, and the token that opened the
        -- purge window for it. A call marked purged must be named by one of these.
        CREATE TABLE chain_purges (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            purged_at TEXT NOT NULL,
            calls TEXT NOT NULL,
            redacted INTEGER NOT NULL,
            deleted_through INTEGER,
            reason TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TABLE purge_tokens_spent (token TEXT PRIMARY KEY) WITHOUT ROWID;

        DELETE FROM purge_window;
        ALTER TABLE purge_window ADD COLUMN token TEXT;
        CREATE TRIGGER purge_window_open BEFORE INSERT ON purge_window
        WHEN NEW.token IS NULL
          OR NEW.token IS NOT (SELECT token FROM chain_purges ORDER BY id DESC LIMIT 1)
          OR EXISTS (SELECT 1 FROM purge_tokens_spent WHERE token = NEW.token)
        BEGIN
            SELECT RAISE(ABORT, 'only llmbench audit purge may open the purge window');
        END;
        CREATE TRIGGER purge_window_no_update BEFORE UPDATE ON purge_window
        BEGIN
            SELECT RAISE(ABORT, 'only llmbench audit purge may open the purge window');
        END;
        CREATE TRIGGER purge_window_close AFTER DELETE ON purge_window
        WHEN OLD.token IS NOT NULL
        BEGIN
            INSERT INTO purge_tokens_spent (token) VALUES (OLD.token);
        END;

        DROP TRIGGER calls_no_update;
        DROP TRIGGER calls_no_delete;
        CREATE TRIGGER calls_no_update BEFORE UPDATE ON calls
        WHEN NOT {_WINDOW_OPEN}
        BEGIN SELECT {_REFUSED}; END;
        CREATE TRIGGER calls_no_delete BEFORE DELETE ON calls
        WHEN NOT {_WINDOW_OPEN}
        BEGIN SELECT {_REFUSED}; END;

        {_append_only("chain_forms")}
        {_append_only("chain_purges")}
        {_append_only("chain_anchors")}
        {_append_only("purge_tokens_spent")}
        """
    )
