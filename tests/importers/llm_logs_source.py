"""What a logs.db made by simonw/llm itself holds, read with sqlite3 straight from the file, for
the tests to compare llmbench's import with (tests/data/llm_logs, made by
scripts/make_llm_fixtures.py)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "llm_logs"


@dataclass
class SourceCall:
    """One call as the file records it."""

    id: str
    table: str
    model: str
    resolved_model: str | None
    datetime_utc: str
    duration_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    conversation: str | None
    conversation_name: str | None
    typed_prompt: str | None  # what was typed for this call (fragments not included)
    system: str | None
    response: str
    options: str | None  # options_json
    user_texts: list[str | None]  # typed text of each user message sent, oldest first
    tool_calls: list[tuple[str, Any, str | None]] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)  # outputs sent with this call
    fragment_hashes: list[str] = field(default_factory=list)
    attachments: list[tuple[str, str, int | None]] = field(default_factory=list)  # id, type, size
    roles: list[str] = field(default_factory=list)  # turns only: roles of the chain sent


def store_time(value: str) -> str:
    """llm's datetime_utc (naive UTC before 0.32, with +00:00 after) as the store writes it."""
    moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def source_calls(path: Path) -> list[SourceCall]:
    """Every call of the file, `responses` rows first, then `turns`, each in logged order."""
    with _connect(path) as conn:
        tables = _tables(conn)
        calls = _responses(conn, tables) if "responses" in tables else []
        return calls + (_turns(conn, tables) if "turns" in tables else [])


def _responses(conn: sqlite3.Connection, tables: set[str]) -> list[SourceCall]:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(responses)")}

    def column(name: str) -> str:  # a column this llm release had not added yet is NULL
        return f"r.{name}" if name in columns else "NULL"

    calls = []
    users: dict[str, list[str | None]] = {}  # conversation → user messages so far
    results: dict[str, list[str]] = {}  # conversation → tool outputs so far
    for row in conn.execute(
        f"SELECT r.*, {column('input_tokens')} AS input_, {column('output_tokens')} AS output_,"
        f" {column('resolved_model')} AS resolved_, c.name AS conversation_name"
        " FROM responses r LEFT JOIN conversations c ON c.id = r.conversation_id"
        " ORDER BY r.rowid"
    ):
        rid = row["id"]

        def side(sql: str, table: str, rid: str = rid) -> list[sqlite3.Row]:
            return conn.execute(sql, (rid,)).fetchall() if table in tables else []

        fragments = [r[0] for r in side(
            "SELECT f.hash FROM prompt_fragments p JOIN fragments f ON f.id = p.fragment_id"
            ' WHERE p.response_id = ? ORDER BY p."order"', "prompt_fragments")
        ] + [r[0] for r in side(
            "SELECT f.hash FROM system_fragments s JOIN fragments f ON f.id = s.fragment_id"
            ' WHERE s.response_id = ? ORDER BY s."order"', "system_fragments")
        ]  # fmt: skip
        prompt_fragments = side(
            "SELECT fragment_id FROM prompt_fragments WHERE response_id = ?", "prompt_fragments"
        )
        attachments = [(r[0], r[1], r[2]) for r in side(
            "SELECT a.id, a.type, length(a.content) FROM prompt_attachments p"
            " JOIN attachments a ON a.id = p.attachment_id WHERE p.response_id = ?"
            ' ORDER BY p."order"', "prompt_attachments")
        ]  # fmt: skip
        conversation = row["conversation_id"]
        if row["prompt"] or prompt_fragments or attachments:  # llm sends a user message
            users.setdefault(conversation, []).append(row["prompt"])
        results.setdefault(conversation, []).extend(
            r[0] for r in side(
                "SELECT output FROM tool_results WHERE response_id = ? ORDER BY id",
                "tool_results")
        )  # fmt: skip
        calls.append(
            SourceCall(
                id=rid, table="responses", model=row["model"], resolved_model=row["resolved_"],
                datetime_utc=row["datetime_utc"], duration_ms=row["duration_ms"],
                input_tokens=row["input_"], output_tokens=row["output_"],
                conversation=conversation, conversation_name=row["conversation_name"],
                typed_prompt=row["prompt"], system=row["system"], response=row["response"],
                options=row["options_json"], user_texts=list(users.get(conversation, [])),
                tool_calls=[(r[0], json.loads(r[1]), r[2] or None) for r in side(
                    "SELECT name, arguments, tool_call_id FROM tool_calls"
                    " WHERE response_id = ? ORDER BY id", "tool_calls")],
                tool_results=list(results[conversation]),
                fragment_hashes=fragments,
                attachments=attachments,
            )
        )  # fmt: skip
    return calls


CHAIN = """
WITH RECURSIVE chain(hash, parent, role, depth) AS (
    SELECT hash, parent_hash, role, 0 FROM messages WHERE hash = ?
    UNION ALL
    SELECT m.hash, m.parent_hash, m.role, c.depth + 1 FROM messages m JOIN chain c
    ON m.hash = c.parent
) SELECT hash, role FROM chain ORDER BY depth DESC
"""


def _chain(conn: sqlite3.Connection, tip: str | None) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(CHAIN, (tip,))] if tip else []


def _parts(conn: sqlite3.Connection, message: str) -> list[dict[str, Any]]:
    parts = []
    for row in conn.execute(
        "SELECT type, text, payload FROM parts WHERE message_hash = ? ORDER BY position",
        (message,),
    ):
        part = json.loads(row["payload"]) if row["payload"] else {}
        part["type"], part["text_column"] = row["type"], row["text"]
        parts.append(part)
    return parts


def _turns(conn: sqlite3.Connection, tables: set[str]) -> list[SourceCall]:
    calls = []
    for row in conn.execute(
        "SELECT t.*, th.name AS thread_name, s.prompt AS typed, s.response AS answer"
        " FROM turns t LEFT JOIN threads th ON th.id = t.thread_id"
        " LEFT JOIN turn_search s ON s.turn_id = t.id ORDER BY t.rowid"
    ):
        inputs = _chain(conn, row["parent_message_hash"])
        outputs = _chain(conn, row["tip_message_hash"])[len(inputs) :]
        sent = [(role, _parts(conn, message)) for message, role in inputs]
        answered = [part for message, _ in outputs for part in _parts(conn, message)]
        own_start = len(sent)
        while own_start and sent[own_start - 1][0] in ("user", "tool"):
            own_start -= 1
        system = [p for role, parts in sent[:1] if role == "system" for p in parts]
        calls.append(
            SourceCall(
                id=row["id"], table="turns", model=row["model"],
                resolved_model=row["resolved_model"], datetime_utc=row["datetime_utc"],
                duration_ms=row["duration_ms"], input_tokens=row["input_tokens"],
                output_tokens=row["output_tokens"], conversation=row["thread_id"],
                conversation_name=row["thread_name"], typed_prompt=row["typed"],
                system=system[0].get("text_column") if system else None,
                response=row["answer"] or "",
                options=row["options_json"],
                user_texts=[
                    next((p["text_column"] for p in parts if p["type"] == "text"), None)
                    for role, parts in sent if role == "user"
                ],
                tool_calls=[
                    (p["name"], p["arguments"], p.get("tool_call_id"))
                    for p in answered if p["type"] == "tool_call"
                ],
                tool_results=[
                    p["output"] for role, parts in sent if role == "tool" for p in parts
                    if p["type"] == "tool_result"
                ],
                fragment_hashes=[
                    r[0] for r in conn.execute(
                        "SELECT f.hash FROM turn_fragments t JOIN fragments f"
                        ' ON f.id = t.fragment_id WHERE t.turn_id = ? ORDER BY t.kind DESC,'
                        ' t."order"', (row["id"],))
                ],
                attachments=[
                    (r[0], r[1], r[2])
                    for _, parts in sent[own_start:] for p in parts
                    if p["type"] == "attachment"
                    for r in conn.execute(
                        "SELECT id, type, length(content) FROM attachments WHERE id = ?",
                        (p["attachment"]["id"],))
                ],
                roles=[role for role, _ in sent],
            )
        )  # fmt: skip
    return calls
