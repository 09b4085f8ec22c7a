"""m012: where a call sits in a conversation and a trace. Follow-up turns of one chat were
unrelated rows, and the steps of an agent run could not be seen as one thing. A released
migration is never edited: add a new step instead."""

from __future__ import annotations

from sqlite_utils import Database


def m012_conversations(db: Database) -> None:
    # conversation_id: the chat or session the call belongs to (NULL when none); trace_id: one
    # run of an application or agent, whose calls are its steps; parent_request_id: the
    # request_id of the step this call was made under (NULL at the top of its trace). Sealed
    # as the call's metadata when present (core.audit.chain.LATER_METADATA_FIELDS), so rows
    # sealed before keep their hash; a purge keeps them: they are no bodies.
    for column in ("conversation_id", "trace_id", "parent_request_id"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column} TEXT")
    # (column, ts) as the browser's other equality filters, so F6's `conversation:` pages read
    # in index order. Partial: the calls of no conversation (most of a large log) cost the index
    # nothing, and `conversation_id = ?` implies the index's condition.
    db.execute(
        "CREATE INDEX calls_conversation ON calls (conversation_id, ts)"
        " WHERE conversation_id IS NOT NULL"
    )
    db.execute("CREATE INDEX calls_trace ON calls (trace_id, ts) WHERE trace_id IS NOT NULL")
