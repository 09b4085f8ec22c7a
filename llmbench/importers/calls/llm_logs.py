"""simonw/llm's logs.db as calls for the audit log.

Every version of llm logs one row per model call in `responses` (model, resolved_model,
prompt, system, response, options_json, input/output tokens, duration_ms, datetime_utc). Files
written since llm's node-tree schema also keep each call's whole conversation: `nodes` chains
the messages a call sent (`responses.input_node_id` is the last one), each message is stored
once in `messages` with its typed content in `parts`. When those tables are there a call's
messages are its whole conversation by role; otherwise they are its system prompt and prompt.
Each call's request id is `llm:<id>`, so importing the same file again adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.calls.common import (
    CallOrProblem,
    ImportProblem,
    messages_json,
    to_store_time,
    tokens,
)
from llmbench.store.foreign import ForeignDatabase, ForeignDatabaseError

SOURCE_TAG = "llm-logs"
Progress = Callable[[int, int], None]
_TAGS = json.dumps({"source": SOURCE_TAG, "table": "responses"})


def _call(row: dict[str, Any], messages: str | None, response: str | None) -> dict[str, Any]:
    if not row.get("id"):
        raise ValueError("no id")
    if not row.get("model"):
        raise ValueError("no model")
    answered = row.get("resolved_model") or row["model"]
    duration = row.get("duration_ms")
    if response is not None and not isinstance(response, str):
        raise ValueError(f"response is not text: {type(response).__name__}")
    if duration is not None and not isinstance(duration, int | float):
        raise ValueError(f"duration_ms is not a number: {duration!r}")
    return {
        "ts": to_store_time(row.get("datetime_utc")),
        "request_id": f"llm:{row['id']}",
        "model_requested": str(row["model"]),
        "model": str(answered),
        "messages": messages,
        "response": response,
        "prompt_tokens": tokens(row.get("input_tokens"), "input_tokens"),
        "completion_tokens": tokens(row.get("output_tokens"), "output_tokens"),
        "latency_ms": float(duration) if duration is not None else None,
        "status": "ok",
        "tags": _TAGS,
    }


def _params(value: Any) -> str:
    if not value or value == "{}":
        return "{}"
    try:
        parsed = load_json(value)
    except NestingError as error:
        raise ValueError(f"options_json is {error}") from None
    except (TypeError, ValueError):
        raise ValueError("options_json is not JSON") from None
    return json.dumps(parsed if isinstance(parsed, dict) else {})


class _Conversations:
    """The messages each call sent, read from llm's node tree (nodes → messages → parts)."""

    def __init__(self, db: ForeignDatabase) -> None:
        self._parents: dict[Any, tuple[Any, Any]] = {
            row["id"]: (row["parent_id"], row["message_id"])
            for row in db.rows("SELECT id, parent_id, message_id FROM nodes")
        }
        self._roles = {row["id"]: row["role"] for row in db.rows("SELECT id, role FROM messages")}
        texts: dict[Any, list[str]] = {}
        for part in db.rows(
            "SELECT message_id, type, text, name, arguments, output FROM parts"
            ' ORDER BY message_id, "order"'
        ):
            text = _part_text(part)
            if text is not None:
                texts.setdefault(part["message_id"], []).append(text)
        self._texts = {message: "\n".join(pieces) for message, pieces in texts.items()}

    @staticmethod
    def available(db: ForeignDatabase) -> bool:
        return (
            {"input_node_id"} <= set(db.columns("responses"))
            and {"id", "parent_id", "message_id"} <= set(db.columns("nodes"))
            and {"id", "role"} <= set(db.columns("messages"))
            and {"message_id", "type", "text", "name", "arguments", "output", "order"}
            <= set(db.columns("parts"))
        )

    def messages(self, leaf: Any) -> str | None:
        """The chain ending at node `leaf`, oldest first, as chat messages; None without one."""
        chain: list[dict[str, str]] = []
        seen: set[Any] = set()
        node = leaf
        while node is not None and node in self._parents and node not in seen:
            seen.add(node)  # a damaged file could loop; each node is visited once
            parent, message = self._parents[node]
            chain.append(
                {"role": str(self._roles.get(message) or "user"),
                 "content": self._texts.get(message, "")}
            )  # fmt: skip
            node = parent
        return json.dumps(chain[::-1]) if chain else None


def _part_text(part: dict[str, Any]) -> str | None:
    """A part as text for the audit log: text as it is, a tool call as name(arguments), a
    tool result as its output; reasoning and attachments are not part of what was sent."""
    kind = part["type"]
    if kind == "text":
        return None if part["text"] is None else str(part["text"])
    if kind == "tool_call":
        return f"{part['name']}({part['arguments'] or ''})"
    if kind == "tool_result":
        return None if part["output"] is None else str(part["output"])
    return None


def iter_llm_logs(path: Path, progress: Progress | None = None) -> Iterator[CallOrProblem]:
    """Every logged call (not yet priced), or a problem per unreadable row, one at a time in
    file order, so a large file is imported while it is read."""
    try:
        db = ForeignDatabase(path)
    except ForeignDatabaseError as error:
        yield ImportProblem(str(path), str(error))
        return
    with db:
        if "id" not in db.columns("responses"):
            yield ImportProblem(str(path), "no `responses` table: not llm's logs.db")
            return
        total = db.count("responses")
        conversations = _Conversations(db) if _Conversations.available(db) else None
        for number, row in enumerate(db.rows("SELECT * FROM responses ORDER BY rowid"), 1):
            try:
                sent = conversations.messages(row["input_node_id"]) if conversations else None
                messages = sent or messages_json(row.get("system"), row.get("prompt"))
                call = _call(row, messages, row.get("response"))
                call["params"] = _params(row.get("options_json"))
                yield call
            except ValueError as error:
                yield ImportProblem(f"{path.name}: responses row {number}", str(error))
            if progress and number % 10_000 == 0:
                progress(number, total)
        if progress:
            progress(total, total)
