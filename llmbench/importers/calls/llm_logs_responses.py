"""simonw/llm's `responses` layout (llm 0.4 to 0.31, and the older rows of a file a later
llm migrated): one row per model call, its conversation in `conversations`, and from later
releases its attachments (0.17), token counts (0.19), fragments (0.24) and tool calls and
results (0.26) in tables of their own, keyed by the response's id.

A row holds only what was typed for that call (`prompt`, `system`); the messages it sent are
rebuilt as llm itself rebuilds them (`Response.from_row`, then its OpenAI plugin's
`build_messages`): each earlier call of the conversation, in the order they were logged, as its
system prompt (when it changed), its user message (fragments first, then the prompt, then any
attachments), the tool results it carried and the assistant's answer and tool calls; then this
call's own system prompt, tool results and user message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmbench.importers.calls.common import CallOrProblem, ImportProblem
from llmbench.importers.calls.llm_logs_rows import (
    LoggedCall,
    attachment_part,
    attachment_summary,
    has,
    shared_columns,
    text,
    tool_call,
    tool_call_message,
    tool_result_message,
)
from llmbench.store.foreign import ForeignDatabase

Progress = Callable[[int], None]  # rows read so far
COLUMNS = ("id", "model", "resolved_model", "prompt", "system", "options_json", "response",
           "conversation_id", "duration_ms", "datetime_utc", "input_tokens",
           "output_tokens", "token_details")  # fmt: skip


def is_responses_layout(db: ForeignDatabase) -> bool:
    return has(db, "responses", ("id",))


@dataclass
class _Turn:
    """What one logged call contributes to the messages of the calls after it."""

    system: str | None
    user: dict[str, Any] | None
    tool_results: list[dict[str, Any]]
    answer: str | None
    tool_calls: list[dict[str, Any]]


class _SideTables:
    """The rows llm keeps beside a response (fragments, attachments, tool calls and results),
    read only for the responses that have any: most have none, and a query per row would slow
    a million-row import down. A table this llm release did not have reads as empty."""

    def __init__(self, db: ForeignDatabase) -> None:
        self._db = db
        self._sql: dict[str, str] = {}
        self._keyed: dict[str, set[Any]] = {}
        source = "f.source" if "source" in db.columns("fragments") else "NULL"
        aliases = (
            "(SELECT group_concat(alias, char(10)) FROM fragment_aliases a"
            " WHERE a.fragment_id = f.id)"
            if has(db, "fragment_aliases", ("alias", "fragment_id"))
            else "NULL"
        )

        def fragment_sql(table: str) -> str:
            return (
                f"SELECT f.content, f.hash, {source} AS source, {aliases} AS aliases"
                f" FROM [{table}] t JOIN fragments f ON f.id = t.fragment_id"
                ' WHERE t.response_id = ? ORDER BY t."order"'
            )

        fragments = ("fragments", ("id", "hash", "content"))
        queries = {
            "prompt_fragments": (fragment_sql("prompt_fragments"), ("fragment_id", "order"),
                                 fragments),
            "system_fragments": (fragment_sql("system_fragments"), ("fragment_id", "order"),
                                 fragments),
            "prompt_attachments": (
                "SELECT a.id, a.type, a.path, a.url, length(a.content) AS size"
                " FROM prompt_attachments p JOIN attachments a ON a.id = p.attachment_id"
                ' WHERE p.response_id = ? ORDER BY p."order"',
                ("attachment_id", "order"), ("attachments", ("id", "type", "path", "url"))),
            "tool_calls": (
                "SELECT name, arguments, {call_id} AS call_id FROM tool_calls"
                " WHERE response_id = ? ORDER BY rowid", ("name", "arguments"), None),
            "tool_results": (
                "SELECT name, output, {call_id} AS call_id FROM tool_results"
                " WHERE response_id = ? ORDER BY rowid", ("name", "output"), None),
        }  # fmt: skip
        for table, (sql, columns, joined) in queries.items():
            if not has(db, table, ("response_id", *columns)) or (joined and not has(db, *joined)):
                continue
            call_id = "tool_call_id" if "tool_call_id" in db.columns(table) else "NULL"
            self._sql[table] = sql.replace("{call_id}", call_id)
            self._keyed[table] = {
                row["response_id"] for row in db.rows(f"SELECT DISTINCT response_id FROM [{table}]")
            }

    def holds(self, response_id: Any) -> bool:
        """Whether any side table has rows for this response."""
        return any(response_id in keyed for keyed in self._keyed.values())

    def _rows(self, table: str, response_id: Any) -> list[dict[str, Any]]:
        if response_id not in self._keyed.get(table, ()):
            return []
        return list(self._db.rows(self._sql[table], (response_id,)))

    def fragments(self, response_id: Any, kind: str) -> list[dict[str, Any]]:
        """The fragments given to the call as `kind` ('prompt' or 'system'), in order, each
        with its content, hash, source and aliases."""
        found = []
        for row in self._rows(f"{kind}_fragments", response_id):
            names = text(row["aliases"], "fragment alias")
            found.append(
                {
                    "kind": kind,
                    "content": text(row["content"], "fragment content") or "",
                    "hash": text(row["hash"], "fragment hash"),
                    "source": text(row["source"], "fragment source"),
                    "aliases": sorted(names.split("\n")) if names else [],
                }
            )
        return found

    def attachments(self, response_id: Any) -> list[dict[str, Any]]:
        return self._rows("prompt_attachments", response_id)

    def tool_calls(self, response_id: Any) -> list[dict[str, Any]]:
        return [
            tool_call(row["name"], row["arguments"], row["call_id"])
            for row in self._rows("tool_calls", response_id)
        ]

    def tool_results(self, response_id: Any) -> list[dict[str, Any]]:
        return [
            tool_result_message(row["name"], row["output"], row["call_id"])
            for row in self._rows("tool_results", response_id)
        ]


def _joined_prompt(fragments: list[dict[str, Any]], prompt: str | None) -> str:
    """llm's `Prompt.prompt`: the fragments, then what was typed, one per line."""
    return "\n".join([f["content"] for f in fragments] + ([prompt] if prompt else []))


def _joined_system(fragments: list[dict[str, Any]], system: str | None) -> str:
    """llm's `Prompt.system`: system fragments, then the system prompt, stripped, a blank
    line between them."""
    bits = [bit.strip() for bit in [f["content"] for f in fragments] + [system or ""]]
    return "\n\n".join(bit for bit in bits if bit)


def _messages(history: list[_Turn], turn: _Turn) -> list[dict[str, Any]]:
    """The messages a call sent: its conversation's earlier turns, then its own."""
    messages: list[dict[str, Any]] = []
    current_system: str | None = None
    for earlier in history:
        if earlier.system and earlier.system != current_system:
            messages.append({"role": "system", "content": earlier.system})
            current_system = earlier.system
        if earlier.user is not None:
            messages.append(earlier.user)
        messages.extend(earlier.tool_results)
        if earlier.answer:
            messages.append({"role": "assistant", "content": earlier.answer})
        if earlier.tool_calls:
            messages.append(tool_call_message(None, earlier.tool_calls))
    if turn.system and turn.system != current_system:
        messages.append({"role": "system", "content": turn.system})
    messages.extend(turn.tool_results)
    if turn.user is not None:
        messages.append(turn.user)
    return messages


def _user_message(prompt: str, attachments: list[dict[str, Any]]) -> dict[str, Any] | None:
    if attachments:
        parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}] if prompt else []
        parts.extend(attachment_part(row) for row in attachments)
        return {"role": "user", "content": parts}
    return {"role": "user", "content": prompt} if prompt else None


def iter_responses(
    db: ForeignDatabase, path: Path, progress: Progress | None = None
) -> Iterator[CallOrProblem]:
    """Every row of `responses` as a call, or a problem naming its row, in the order logged."""
    present = set(db.columns("responses"))
    wanted = ", ".join(f"r.[{c}]" if c in present else f"NULL AS [{c}]" for c in COLUMNS)
    named = "conversation_id" in present and has(db, "conversations", ("id", "name"))
    name = "c.name" if named else "NULL"
    join = " LEFT JOIN conversations c ON c.id = r.conversation_id" if named else ""
    # Only conversations of more than one call need their turns kept while reading.
    remaining: dict[Any, int] = {}
    if "conversation_id" in present:
        remaining = {
            row["conversation_id"]: row["calls"]
            for row in db.rows(
                "SELECT conversation_id, count(*) AS calls FROM responses"
                " WHERE conversation_id IS NOT NULL GROUP BY conversation_id HAVING calls > 1"
            )
        }
    histories: dict[Any, list[_Turn]] = {}
    side = _SideTables(db)
    rows = db.rows(
        f"SELECT {wanted}, {name} AS conversation_name FROM responses r{join} ORDER BY r.rowid"
    )
    for number, row in enumerate(rows, 1):
        try:
            yield _read(row, side, histories, remaining).to_call()
        except ValueError as error:
            yield ImportProblem(f"{path.name}: responses row {number}", str(error))
        if progress and number % 10_000 == 0:
            progress(number)


def _read(
    row: dict[str, Any],
    side: _SideTables,
    histories: dict[Any, list[_Turn]],
    remaining: dict[Any, int],
) -> LoggedCall:
    response_id = row["id"]
    prompt, system = text(row["prompt"], "prompt"), text(row["system"], "system")
    if side.holds(response_id):
        prompt_fragments = side.fragments(response_id, "prompt")
        system_fragments = side.fragments(response_id, "system")
        attachments = side.attachments(response_id)
        turn = _Turn(
            system=_joined_system(system_fragments, system) or None,
            user=_user_message(_joined_prompt(prompt_fragments, prompt), attachments),
            tool_results=side.tool_results(response_id),
            answer=text(row["response"], "response"),
            tool_calls=side.tool_calls(response_id),
        )
    else:  # most calls: what was typed, nothing beside it
        prompt_fragments, system_fragments, attachments = [], [], []
        turn = _Turn(
            system=_joined_system([], system) or None,
            user=_user_message(prompt or "", []),
            tool_results=[],
            answer=text(row["response"], "response"),
            tool_calls=[],
        )
    conversation = row["conversation_id"]
    history = histories.get(conversation, [])
    messages = _messages(history, turn)
    if conversation in remaining:  # keep this turn for the conversation's later calls
        remaining[conversation] -= 1
        if remaining[conversation]:
            histories.setdefault(conversation, []).append(turn)
        else:
            histories.pop(conversation, None)
            del remaining[conversation]
    return LoggedCall(
        table="responses",
        id=response_id,
        **shared_columns(row),
        messages=messages,
        response=turn.answer,
        tool_calls=turn.tool_calls,
        conversation=conversation,
        conversation_name=row["conversation_name"],
        fragments=[
            {k: v for k, v in f.items() if k != "content" and v not in (None, [])}
            for f in prompt_fragments + system_fragments
        ],
        attachments=[attachment_summary(a) for a in attachments],
    )
