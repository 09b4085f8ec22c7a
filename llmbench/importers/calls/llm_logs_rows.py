"""What both of simonw/llm's logs.db layouts have in common once read: one logged model call
(`LoggedCall`) and how it becomes a row of the audit log.

A call keeps the whole message list it sent, in the OpenAI chat shape llm's own OpenAI plugin
builds (a follow-up's earlier turns, its tool calls and tool results included), its text answer,
the tool calls it asked for (`calls.tool_calls`), its conversation (`calls.conversation_id`, its
name as the tag `conversation_name`), the fragments and attachments it was given. Token counts
llm did not record (a model that reports no usage, or llm before 0.19) are estimated with
llmbench's tokenizer and flagged `tokens_estimated`, never stored as 0/0. Text is stored as the
characters it is (no \\u escapes), so the full-text search finds `café`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.models import THREAD_ID_MAX
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.calls.common import finite_number, to_store_time, tokens
from llmbench.store.foreign import ForeignDatabase

SOURCE_TAG = "llm-logs"


# One encoder for every row: json.dumps builds a new one per call when given options.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def dumps(value: Any) -> str:
    """JSON with every character as itself: `café`, not `caf\\u00e9`, so search finds it."""
    return _ENCODER.encode(value)


def text(value: Any, name: str) -> str | None:
    """A text column's value; ValueError when a damaged file holds something else there."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name} is not text: {type(value).__name__}")


def json_object(value: Any, name: str) -> dict[str, Any]:
    """A column of JSON text holding an object ({} when empty); ValueError otherwise."""
    if value is None or value == "" or value == "{}":  # most rows: no options
        return {}
    if not isinstance(value, str):
        raise ValueError(f"{name} is not JSON text: {type(value).__name__}")
    try:
        parsed = load_json(value)
    except NestingError as error:
        raise ValueError(f"{name} is {error}") from None
    except ValueError:
        raise ValueError(f"{name} is not JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{name} is not a JSON object")
    return parsed


def select(
    db: ForeignDatabase, table: str, wanted: Sequence[str], rest: str = ""
) -> Iterator[dict[str, Any]]:
    """`table`'s rows with the `wanted` columns; a column this llm release did not have yet
    reads as NULL (e.g. `input_tokens` before 0.19)."""
    present = set(db.columns(table))
    columns = ", ".join(f"[{name}]" if name in present else f"NULL AS [{name}]" for name in wanted)
    return db.rows(f"SELECT {columns} FROM [{table}] {rest}")


def has(db: ForeignDatabase, table: str, columns: Sequence[str]) -> bool:
    return set(columns) <= set(db.columns(table))


def tool_call_message(text_content: str | None, calls: Sequence[Mapping[str, Any]]) -> dict:
    """An assistant message as the OpenAI chat format writes one: its text and tool calls."""
    message: dict[str, Any] = {"role": "assistant", "content": text_content or None}
    if calls:
        message["tool_calls"] = list(calls)
    return message


def tool_call(name: Any, arguments: Any, call_id: Any) -> dict[str, Any]:
    """A tool call as OpenAI's chat format writes it (arguments as JSON text)."""
    name = text(name, "tool name") or ""
    if isinstance(arguments, str):
        encoded = arguments
    else:
        encoded = dumps(arguments if arguments is not None else {})
    return {
        "id": text(call_id, "tool_call_id") or None,
        "type": "function",
        "function": {"name": name, "arguments": encoded},
    }


def answer_tool_calls(calls: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Tool calls in OpenAI's chat shape as `calls.tool_calls` keeps an answer's: id, name,
    arguments (the id "" where llm kept none)."""
    return [
        {
            "id": call.get("id") or "",
            "name": call["function"]["name"],
            "arguments": call["function"]["arguments"],
        }
        for call in calls
    ]


def tool_result_message(name: Any, output: Any, call_id: Any) -> dict[str, Any]:
    content = output if isinstance(output, str) or output is None else dumps(output)
    return {
        "role": "tool",
        "tool_call_id": text(call_id, "tool_call_id") or None,
        "name": text(name, "tool name") or "",
        "content": content,
    }


def attachment_part(row: Mapping[str, Any]) -> dict[str, Any]:
    """An attachment as a content part of a user message: what it was, never its bytes."""
    return {"type": "attachment", "attachment": attachment_summary(row)}


def attachment_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """type, path or url, id and size in bytes of one of llm's `attachments` rows."""
    content = row.get("content")
    size = row.get("size")
    if size is None and isinstance(content, bytes | str):
        size = len(content)
    summary = {
        "id": text(row.get("id"), "attachment id"),
        "type": text(row.get("type"), "attachment type"),
        "path": text(row.get("path"), "attachment path"),
        "url": text(row.get("url"), "attachment url"),
        "size": size if isinstance(size, int) else None,
    }
    return {key: value for key, value in summary.items() if value is not None}


# The columns llm keeps under the same names in both layouts (`responses` and `turns`).
SHARED_COLUMNS = (
    "model",
    "resolved_model",
    "datetime_utc",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "options_json",
    "token_details",
)


def shared_columns(row: Any) -> dict[str, Any]:
    """A logged row's SHARED_COLUMNS, as LoggedCall's keyword arguments."""
    return {name: row[name] for name in SHARED_COLUMNS}


@dataclass(frozen=True)
class UsageDetails:
    """What llm's `token_details` says beyond its input and output counts."""

    cached: int = 0
    reasoning: int | None = None
    cache_write: int | None = None
    # Anthropic's input_tokens leave out the tokens read from and written to its cache; the
    # audit log's prompt counts them, as litellm's usage does.
    prompt_beyond_input: int = 0


def usage_details(value: Any) -> UsageDetails:
    """llm's `token_details` column: the provider's usage with the two counts taken out and its
    zeros dropped (llm's simplify_usage_dict). llm's OpenAI models keep
    `prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`;
    llm-anthropic keeps Anthropic's `cache_read_input_tokens` and `cache_creation_input_tokens`
    (when its cache option was on)."""
    details = json_object(value, "token_details")
    if not details:
        return UsageDetails()
    prompt = details.get("prompt_tokens_details")
    completion = details.get("completion_tokens_details")
    prompt = prompt if isinstance(prompt, Mapping) else {}
    completion = completion if isinstance(completion, Mapping) else {}
    read = tokens(details.get("cache_read_input_tokens"), "cache_read_input_tokens")
    written = tokens(details.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
    cached = tokens(prompt.get("cached_tokens"), "cached_tokens")
    reasoning = tokens(completion.get("reasoning_tokens"), "reasoning_tokens")
    return UsageDetails(
        cached=cached or read,
        reasoning=reasoning or None,
        cache_write=written or None,
        prompt_beyond_input=read + written,
    )


@dataclass
class LoggedCall:
    """One model call as llm logged it, in either layout."""

    table: str  # 'responses' or 'turns'
    id: Any
    model: Any
    resolved_model: Any
    datetime_utc: Any
    duration_ms: Any
    input_tokens: Any
    output_tokens: Any
    options_json: Any
    messages: list[dict[str, Any]]
    response: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    conversation: Any = None
    conversation_name: Any = None
    fragments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    token_details: Any = None  # the provider's usage beyond the two counts, as llm kept it

    def to_call(self) -> dict[str, Any]:
        """The audit log's row (not yet priced). Raises ValueError for a damaged row."""
        if self.id is None or self.id == "" or not isinstance(self.id, str | int):
            raise ValueError("no id")
        if not self.model or not isinstance(self.model, str):
            raise ValueError("no model")
        answered = text(self.resolved_model, "resolved_model") or self.model
        duration = finite_number(self.duration_ms, "duration_ms")
        response = self.response
        calls = answer_tool_calls(self.tool_calls)
        # Estimated from what the model wrote: its text and its tool calls.
        written = "\n".join(filter(None, [response, *(c["name"] + c["arguments"] for c in calls)]))
        prompt_tokens, completion_tokens, estimated = self._tokens(written)
        details = UsageDetails() if estimated else usage_details(self.token_details)
        options = json_object(self.options_json, "options_json")
        return {
            "ts": to_store_time(self.datetime_utc),
            "request_id": f"llm:{self.id}",
            "model_requested": self.model,
            "model": answered,
            "messages": dumps(self.messages) if self.messages else None,
            "response": response,
            "tool_calls": dumps(calls) if calls else None,
            "conversation_id": self._conversation(),
            "params": dumps(options) if options else "{}",
            "prompt_tokens": prompt_tokens + details.prompt_beyond_input,
            "completion_tokens": completion_tokens,
            "cached_tokens": details.cached,
            "reasoning_tokens": details.reasoning,
            "cache_write_tokens": details.cache_write,
            "tokens_estimated": estimated,
            "latency_ms": duration,
            "status": "ok",
            "tags": dumps(self._tags()),
        }

    def _tokens(self, response: str | None) -> tuple[int, int, int]:
        """llm's counts; a count it did not record is estimated (and the row flagged)."""
        estimated = 0
        if self.input_tokens is None:
            prompt = count_message_tokens(self.messages, self.model) if self.messages else 0
            estimated = 1
        else:
            prompt = tokens(self.input_tokens, "input_tokens")
        if self.output_tokens is None:
            completion = count_tokens(response or "", self.model)
            estimated = 1
        else:
            completion = tokens(self.output_tokens, "output_tokens")
        return prompt, completion, estimated

    def _conversation(self) -> str | None:
        """llm's conversation (thread) id, as the call's conversation_id."""
        conversation = self.conversation
        if conversation is None or conversation == "":
            return None
        if not isinstance(conversation, str | int) or isinstance(conversation, bool):
            raise ValueError(f"conversation id is not text: {type(conversation).__name__}")
        found = str(conversation)
        if len(found) > THREAD_ID_MAX or not found.isprintable():
            raise ValueError("conversation id is not a printable id of at most 200 characters")
        return found

    def _tags(self) -> dict[str, Any]:
        tags: dict[str, Any] = {"source": SOURCE_TAG, "table": self.table}
        name = text(self.conversation_name, "conversation name")
        if name:
            tags["conversation_name"] = name
        if self.fragments:
            tags["fragments"] = self.fragments
        if self.attachments:
            tags["attachments"] = self.attachments
        return tags
