"""simonw/llm's `turns` layout (llm 0.32 and later, migration m023): a content-addressed tree
of messages. Each message is stored once in `messages` (its `hash`, its `parent_hash`, its
role) with its typed content in `parts` (text, reasoning, tool_call, tool_result, attachment,
in `position` order; literal text in `text`, the rest as JSON in `payload`, where text that
borrows fragments is a `text_ref` list of literals and fragment ids and attachments are ids
into `attachments`). A thread (`threads`) is a conversation; a turn (`turns`) is one model
call: the chain of messages up to its `parent_message_hash` is what it sent, the messages from
there to its `tip_message_hash` are what the model answered (llm's own `_LogRowBuilder`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from llmbench.importers.calls.common import CallOrProblem, ImportProblem
from llmbench.importers.calls.llm_logs_rows import (
    LoggedCall,
    attachment_summary,
    has,
    json_object,
    select,
    shared_columns,
    text,
    tool_call,
    tool_call_message,
    tool_result_message,
)
from llmbench.store.foreign import ForeignDatabase

Progress = Callable[[int], None]  # rows read so far
TURN_COLUMNS = ("id", "thread_id", "parent_message_hash", "tip_message_hash", "model",
                "resolved_model", "options_json", "input_tokens", "output_tokens",
                "duration_ms", "datetime_utc", "token_details")  # fmt: skip
REQUIRED = {
    "turns": ("id", "parent_message_hash", "tip_message_hash", "model", "datetime_utc"),
    "messages": ("hash", "parent_hash", "role"),
    "parts": ("message_hash", "position", "type", "text", "payload"),
}
# Messages kept converted in memory: conversations share their ancestors, so a message is read
# once however many turns pass through it; past this many the cache starts again.
CACHE_LIMIT = 50_000


def is_turns_layout(db: ForeignDatabase) -> bool:
    return "id" in db.columns("turns")


def missing_tables(db: ForeignDatabase) -> list[str]:
    """The tables (with columns) the turns layout needs that this file lacks."""
    return [
        f"{table} ({', '.join(columns)})"
        for table, columns in REQUIRED.items()
        if not has(db, table, columns)
    ]


class _Messages:
    """llm's message tree, read a message at a time and kept converted (bounded)."""

    def __init__(self, db: ForeignDatabase) -> None:
        self._db = db
        self._rows: dict[str, tuple[str | None, str]] = {}  # hash → (parent hash, role)
        self._parts: dict[str, list[dict[str, Any]]] = {}
        self._fragments: dict[Any, str] = {}
        self._attachments: dict[Any, dict[str, Any]] = {}
        self._fragments_ok = has(db, "fragments", ("id", "content"))
        self._attachments_ok = has(db, "attachments", ("id", "type", "path", "url"))

    def chain(self, tip: Any) -> list[str]:
        """The hashes from the root to `tip`, oldest first ([] for no tip)."""
        hashes: list[str] = []
        seen: set[str] = set()
        current = text(tip, "message hash")
        while current is not None:
            if current in seen:  # a damaged file could loop
                raise ValueError(f"message {current} is its own ancestor")
            seen.add(current)
            hashes.append(current)
            current = self._row(current)[0]
        return hashes[::-1]

    def role(self, message: str) -> str:
        return self._row(message)[1]

    def parts(self, message: str) -> list[dict[str, Any]]:
        """The message's parts as llm's `Part.to_dict` gives them back (references resolved)."""
        if message not in self._parts:
            if len(self._parts) >= CACHE_LIMIT:
                self._parts.clear()
            self._parts[message] = [
                self._part(row)
                for row in self._db.rows(
                    "SELECT type, text, payload FROM parts WHERE message_hash = ?"
                    " ORDER BY position",
                    (message,),
                )
            ]
        return self._parts[message]

    def _row(self, message: str) -> tuple[str | None, str]:
        if message not in self._rows:
            if len(self._rows) >= CACHE_LIMIT:
                self._rows.clear()
            found = next(
                self._db.rows("SELECT parent_hash, role FROM messages WHERE hash = ?", (message,)),
                None,
            )
            if found is None:
                raise ValueError(f"message {message} is not in `messages`")
            role = text(found["role"], "message role")
            if not role:
                raise ValueError(f"message {message} has no role")
            self._rows[message] = (text(found["parent_hash"], "parent_hash"), role)
        return self._rows[message]

    def _part(self, row: dict[str, Any]) -> dict[str, Any]:
        part = json_object(row["payload"], "part payload")
        kind = text(row["type"], "part type")
        if not kind:
            raise ValueError("a part has no type")
        part["type"] = kind
        literal = text(row["text"], "part text")
        if literal is not None:
            part["text"] = literal
        elif isinstance(part.get("text_ref"), list):
            part["text"] = "".join(self._piece(piece) for piece in part.pop("text_ref"))
        text(part.get("text"), "part text")
        return part

    def _piece(self, piece: Any) -> str:
        """One piece of a `text_ref`: a literal, or a fragment's content by id."""
        if not isinstance(piece, dict):
            raise ValueError("a text_ref piece is not an object")
        if "literal" in piece:
            return text(piece["literal"], "text_ref literal") or ""
        return self.fragment(piece.get("fragment"))

    def fragment(self, fragment_id: Any) -> str:
        if fragment_id not in self._fragments:
            found = (
                next(
                    self._db.rows("SELECT content FROM fragments WHERE id = ?", (fragment_id,)),
                    None,
                )
                if self._fragments_ok and isinstance(fragment_id, int | str)
                else None
            )
            if found is None:
                raise ValueError(f"fragment {fragment_id!r} is not in `fragments`")
            self._fragments[fragment_id] = text(found["content"], "fragment content") or ""
        return self._fragments[fragment_id]

    def attachment(self, reference: Any) -> dict[str, Any]:
        """An attachment named by a part ({"id": …}) as type, path or url, id and size."""
        attachment_id = reference.get("id") if isinstance(reference, dict) else None
        if attachment_id not in self._attachments:
            found = (
                next(
                    self._db.rows(
                        "SELECT id, type, path, url, length(content) AS size FROM attachments"
                        " WHERE id = ?",
                        (attachment_id,),
                    ),
                    None,
                )
                if self._attachments_ok and isinstance(attachment_id, str)
                else None
            )
            if found is None:
                raise ValueError(f"attachment {attachment_id!r} is not in `attachments`")
            self._attachments[attachment_id] = attachment_summary(found)
        return self._attachments[attachment_id]


def _chat_messages(store: _Messages, message: str) -> list[dict[str, Any]]:
    """One of llm's messages in the OpenAI chat shape: a tool message becomes one message per
    result; reasoning is not part of what is shown as sent."""
    role, parts = store.role(message), store.parts(message)
    if role == "tool":
        return [
            tool_result_message(p.get("name"), p.get("output"), p.get("tool_call_id"))
            for p in parts
            if p["type"] == "tool_result"
        ]
    texts = [p.get("text") or "" for p in parts if p["type"] == "text"]
    if role == "assistant":
        calls = [
            tool_call(p.get("name"), p.get("arguments"), p.get("tool_call_id"))
            for p in parts
            if p["type"] == "tool_call"
        ]
        return [tool_call_message("".join(texts), calls)]
    attachments = [
        store.attachment(p.get("attachment")) for p in parts if p["type"] == "attachment"
    ]
    if attachments:
        content: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts if t]
        content += [{"type": "attachment", "attachment": a} for a in attachments]
        return [{"role": role, "content": content}]
    return [{"role": role, "content": "".join(texts)}]


def _own_input(store: _Messages, inputs: list[str]) -> list[str]:
    """The trailing user and tool messages: what this turn added to its conversation."""
    boundary = len(inputs)
    while boundary and store.role(inputs[boundary - 1]) in ("user", "tool"):
        boundary -= 1
    return inputs[boundary:]


def _fragment_tags(db: ForeignDatabase) -> Callable[[Any], list[dict[str, Any]]]:
    """turn id → the fragments it was given (`turn_fragments`), kind, hash, source, aliases."""
    if not (
        has(db, "turn_fragments", ("turn_id", "fragment_id", "order", "kind"))
        and has(db, "fragments", ("id", "hash"))
    ):
        return lambda _turn: []
    with_fragments = {row["turn_id"] for row in db.rows("SELECT turn_id FROM turn_fragments")}
    source = "f.source" if "source" in db.columns("fragments") else "NULL"
    aliases = (
        "(SELECT group_concat(alias, char(10)) FROM fragment_aliases a WHERE a.fragment_id = f.id)"
        if has(db, "fragment_aliases", ("alias", "fragment_id"))
        else "NULL"
    )

    def tags(turn_id: Any) -> list[dict[str, Any]]:
        if turn_id not in with_fragments:
            return []
        found = []
        for row in db.rows(
            f"SELECT t.kind, f.hash, {source} AS source, {aliases} AS aliases"
            " FROM turn_fragments t JOIN fragments f ON f.id = t.fragment_id"
            ' WHERE t.turn_id = ? ORDER BY t.kind DESC, t."order"',
            (turn_id,),
        ):
            tag = {
                "kind": text(row["kind"], "fragment kind"),
                "hash": text(row["hash"], "fragment hash"),
                "source": text(row["source"], "fragment source"),
            }
            names = text(row["aliases"], "fragment alias")
            if names:
                tag["aliases"] = sorted(names.split("\n"))
            found.append({k: v for k, v in tag.items() if v is not None})
        return found

    return tags


def iter_turns(
    db: ForeignDatabase, path: Path, progress: Progress | None = None, done: int = 0
) -> Iterator[CallOrProblem]:
    """Every row of `turns` as a call, or a problem naming its row, in the order logged."""
    store = _Messages(db)
    fragments = _fragment_tags(db)
    named = has(db, "threads", ("id", "name"))
    for number, row in enumerate(select(db, "turns", TURN_COLUMNS, "ORDER BY rowid"), 1):
        try:
            name = _thread_name(db, row["thread_id"]) if named else None
            yield _read(store, row, fragments, name)
        except ValueError as error:
            yield ImportProblem(f"{path.name}: turns row {number}", str(error))
        if progress and number % 10_000 == 0:
            progress(done + number)


def _thread_name(db: ForeignDatabase, thread_id: Any) -> Any:
    if thread_id is None:
        return None
    found = next(db.rows("SELECT name FROM threads WHERE id = ?", (thread_id,)), None)
    return found["name"] if found else None


def _read(
    store: _Messages,
    row: dict[str, Any],
    fragments: Callable[[Any], list[dict[str, Any]]],
    thread_name: Any,
) -> dict[str, Any]:
    inputs = store.chain(row["parent_message_hash"])
    whole = store.chain(row["tip_message_hash"])
    if whole[: len(inputs)] != inputs:
        raise ValueError("the turn's tip does not follow from its parent message")
    messages = [m for message in inputs for m in _chat_messages(store, message)]
    outputs = [part for message in whole[len(inputs) :] for part in store.parts(message)]
    attachments = [
        store.attachment(part.get("attachment"))
        for message in _own_input(store, inputs)
        for part in store.parts(message)
        if part["type"] == "attachment"
    ]
    return LoggedCall(
        table="turns",
        id=row["id"],
        **shared_columns(row),
        messages=messages,
        response="".join(p.get("text") or "" for p in outputs if p["type"] == "text"),
        tool_calls=[
            tool_call(p.get("name"), p.get("arguments"), p.get("tool_call_id"))
            for p in outputs
            if p["type"] == "tool_call"
        ],
        conversation=row["thread_id"],
        conversation_name=thread_name,
        fragments=fragments(row["id"]),
        attachments=attachments,
    ).to_call()
