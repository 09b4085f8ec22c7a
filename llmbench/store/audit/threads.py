"""The calls of one conversation or trace, for F6's thread view: found by the partial indexes
of m012 (calls_conversation, calls_trace), in the order they were appended."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from llmbench.core.audit.threads import Thread, ThreadKind, build_thread

# A thread longer than this shows its first steps and says it has more.
MAX_STEPS = 500
_COLUMNS = (
    "id, ts, request_id, attempt, model, status, prompt_tokens, completion_tokens,"
    " tokens_estimated, cost, latency_ms, conversation_id, trace_id, parent_request_id,"
    " messages, response, tool_calls, error"
)
_COLUMN_OF: dict[ThreadKind, str] = {"conversation": "conversation_id", "trace": "trace_id"}


def thread_of_call(db: Database, call_id: int, limit: int = MAX_STEPS) -> Thread | None:
    """The conversation the call belongs to, else its trace; None when it has neither (or
    the call is not in the log)."""
    found = db.execute(
        "SELECT conversation_id, trace_id FROM calls WHERE id = ?", [call_id]
    ).fetchone()
    if found is None:
        return None
    conversation, trace = found
    if conversation is not None:
        return read_thread(db, "conversation", str(conversation), limit)
    if trace is not None:
        return read_thread(db, "trace", str(trace), limit)
    return None


def read_thread(db: Database, kind: ThreadKind, ident: str, limit: int = MAX_STEPS) -> Thread:
    column = _COLUMN_OF[kind]
    cursor = db.execute(
        f"SELECT {_COLUMNS} FROM calls WHERE {column} = ? ORDER BY id LIMIT ?", [ident, limit + 1]
    )
    names = [d[0] for d in cursor.description]
    rows: list[dict[str, Any]] = [dict(zip(names, row, strict=True)) for row in cursor]
    return build_thread(kind, ident, rows[:limit], truncated=len(rows) > limit)
