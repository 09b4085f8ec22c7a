"""JSON lines of LLM calls as calls for the audit log: OpenAI-style request/response pairs,
OpenAI batch output, and litellm spend logs — or any shape, with `--map FIELD=PATH`.

A line's fields are found by dotted paths (`response.usage.prompt_tokens`); the first path of
a field's list that holds a value wins, and `--map` puts the user's path first. A line without
a time, a model or counts that are not counts is a problem reported with its line number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from llmbench.core.models import THREAD_ID_MAX
from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.calls.common import (
    CallOrProblem,
    ImportProblem,
    finite_number,
    to_store_time,
    tokens,
)

SOURCE_TAG = "jsonl"
Progress = Callable[[int, int], None]

# Where each call field is looked for, in order (OpenAI request/response, batch output,
# litellm spend logs).
DEFAULT_PATHS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "created_at", "startTime", "response.created",
           "response.body.created", "created"),
    "request_id": ("request_id", "id", "custom_id", "response.id", "response.body.id"),
    "model": ("response.model", "response.body.model", "model", "request.model",
              "request.body.model"),
    "model_requested": ("request.model", "request.body.model", "model_group", "model"),
    "messages": ("request.messages", "request.body.messages", "messages"),
    "response": ("response.choices.0.message.content",
                 "response.body.choices.0.message.content", "response_text", "output"),
    "tool_calls": ("response.choices.0.message.tool_calls",
                   "response.body.choices.0.message.tool_calls", "tool_calls"),
    "finish_reason": ("response.choices.0.finish_reason",
                      "response.body.choices.0.finish_reason"),
    "prompt_tokens": ("response.usage.prompt_tokens", "response.body.usage.prompt_tokens",
                      "usage.prompt_tokens", "prompt_tokens"),
    "completion_tokens": ("response.usage.completion_tokens",
                          "response.body.usage.completion_tokens", "usage.completion_tokens",
                          "completion_tokens"),
    "cached_tokens": ("response.usage.prompt_tokens_details.cached_tokens",
                      "response.body.usage.prompt_tokens_details.cached_tokens",
                      "usage.prompt_tokens_details.cached_tokens", "cached_tokens"),
    # Part of the completion (OpenAI's completion_tokens_details) and of the prompt (the
    # `cache_creation_input_tokens` litellm keeps from Anthropic); litellm's spend logs keep
    # the whole usage in `metadata.usage_object`.
    "reasoning_tokens": ("response.usage.completion_tokens_details.reasoning_tokens",
                         "response.body.usage.completion_tokens_details.reasoning_tokens",
                         "usage.completion_tokens_details.reasoning_tokens",
                         "metadata.usage_object.completion_tokens_details.reasoning_tokens",
                         "reasoning_tokens"),
    "cache_write_tokens": ("response.usage.cache_creation_input_tokens",
                           "response.body.usage.cache_creation_input_tokens",
                           "usage.cache_creation_input_tokens",
                           "metadata.usage_object.cache_creation_input_tokens",
                           "cache_creation_input_tokens", "cache_write_tokens"),
    "cost": ("cost", "spend", "response_cost"),
    "latency_ms": ("latency_ms", "duration_ms"),
    "max_tokens": ("request.max_tokens", "request.body.max_tokens", "max_tokens"),
    "feature": ("feature", "metadata.feature", "tags.feature"),
    "team": ("team", "team_id", "metadata.team", "tags.team"),
    "customer": ("customer", "end_user", "metadata.customer", "tags.customer"),
    "user": ("user", "request.user", "metadata.user"),
    "task_type": ("task_type", "metadata.task_type", "tags.task_type"),
    "status": ("status",),
    # Where the call sits in a conversation (session) and a trace, and the request_id of the
    # step it was made under (litellm's spend logs keep `session_id`).
    "conversation_id": ("conversation_id", "conversation", "session_id", "metadata.session_id",
                        "metadata.conversation_id", "litellm_session_id"),
    "trace_id": ("trace_id", "metadata.trace_id", "litellm_trace_id"),
    "parent_request_id": ("parent_request_id", "parent_id", "metadata.parent_request_id"),
}  # fmt: skip
FIELDS = tuple(DEFAULT_PATHS)
_STATUSES = {"ok", "error", "timeout", "rate_limited", "blocked", "cache_hit", "success"}


def parse_map(items: Sequence[str]) -> dict[str, str]:
    """['ts=startTime', 'cost=spend'] → {'ts': 'startTime', 'cost': 'spend'}. Raises ValueError."""
    mapping = {}
    for item in items:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not path.strip():
            raise ValueError(f"--map {item!r}: use FIELD=PATH, e.g. ts=startTime")
        if name not in DEFAULT_PATHS:
            raise ValueError(f"--map {item!r}: unknown field {name!r}; known: {', '.join(FIELDS)}")
        mapping[name] = path.strip()
    return mapping


_MISSING = object()


def _lookup(record: Any, path: str) -> Any:
    value = record
    for key in path.split("."):
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def _first(record: Any, paths: Sequence[str]) -> Any:
    for path in paths:
        value = _lookup(record, path)
        if value is not _MISSING and value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _tool_calls(value: Any) -> str | None:
    """An answer's tool calls, OpenAI's shape ({"id", "function": {"name", "arguments"}}) or
    the audit log's ({"id", "name", "arguments"}), as calls.tool_calls keeps them."""
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        raise ValueError("tool_calls is not a list")
    calls = []
    for call in value:
        function = call.get("function") if isinstance(call, dict) else None
        source = function if isinstance(function, dict) else call
        if not isinstance(source, dict) or not isinstance(source.get("name"), str):
            raise ValueError("a tool call has no name")
        arguments = source.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
        ident = call.get("id") if isinstance(call.get("id"), str) else ""
        calls.append({"id": ident, "name": source["name"], "arguments": arguments})
    return json.dumps(calls, ensure_ascii=False)


def _thread_id(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} is not an id: {type(value).__name__}")
    found = str(value)
    if len(found) > THREAD_ID_MAX or not found.isprintable():
        raise ValueError(f"{name} is not a printable id of at most {THREAD_ID_MAX} characters")
    return found


def _call(record: Any, paths: Mapping[str, Sequence[str]], line: str) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise ValueError("not a JSON object")
    value = {name: _first(record, paths[name]) for name in FIELDS}
    if value["ts"] is None:
        raise ValueError("no time (map one with --map ts=PATH)")
    if not value["model"]:
        raise ValueError("no model (map one with --map model=PATH)")
    cost = finite_number(value["cost"], "cost")
    status = str(value["status"] or "ok")
    status = "ok" if status == "success" else status
    if status not in _STATUSES:
        raise ValueError(f"unknown status {status!r}")
    params = {"max_tokens": value["max_tokens"]} if value["max_tokens"] is not None else {}
    request_id = value["request_id"] or hashlib.sha256(line.encode()).hexdigest()[:32]
    latency = value["latency_ms"]
    latency = finite_number(latency, "latency_ms") if isinstance(latency, int | float) else None
    parent = _thread_id(value["parent_request_id"], "parent_request_id")
    return {
        "ts": to_store_time(value["ts"]),
        "request_id": f"jsonl:{request_id}",
        "model_requested": str(value["model_requested"] or value["model"]),
        "model": str(value["model"]),
        "messages": _text(value["messages"]),
        "response": _text(value["response"]),
        "tool_calls": _tool_calls(value["tool_calls"]),
        "finish_reason": _text(value["finish_reason"]),
        "params": json.dumps(params),
        "prompt_tokens": tokens(value["prompt_tokens"], "prompt_tokens"),
        "completion_tokens": tokens(value["completion_tokens"], "completion_tokens"),
        "cached_tokens": tokens(value["cached_tokens"], "cached_tokens"),
        # 0 is no count, as the gateway records it (OpenAI says 0 for every model that does not
        # reason): the row seals as one without them.
        "reasoning_tokens": tokens(value["reasoning_tokens"], "reasoning_tokens") or None,
        "cache_write_tokens": tokens(value["cache_write_tokens"], "cache_write_tokens") or None,
        "cost": cost,
        "latency_ms": latency,
        "status": status,
        "feature": _text(value["feature"]),
        "team": _text(value["team"]),
        "customer": _text(value["customer"]),
        "user": _text(value["user"]),
        "task_type": _text(value["task_type"]),
        "tags": json.dumps({"source": SOURCE_TAG}),
        "conversation_id": _thread_id(value["conversation_id"], "conversation_id"),
        "trace_id": _thread_id(value["trace_id"], "trace_id"),
        # The parent's request_id as it is imported (this importer prefixes every one).
        "parent_request_id": f"jsonl:{parent}" if parent else None,
    }


def iter_jsonl_calls(
    path: Path, mapping: Mapping[str, str] | None = None, progress: Progress | None = None
) -> Iterator[CallOrProblem]:
    """One call per non-blank line, or a problem (with its line number) per line it cannot
    read, one at a time in file order."""
    paths = {
        name: ((mapping[name],) if mapping and name in mapping else ()) + defaults
        for name, defaults in DEFAULT_PATHS.items()
    }
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        yield ImportProblem(str(path), error.strerror or str(error))
        return
    size = max(path.stat().st_size, 1)
    read = 0
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                read += len(line.encode("utf-8"))
                if not line.strip():
                    continue
                try:
                    record = load_json(line)
                except NestingError as error:
                    yield ImportProblem(f"{path.name}:{number}", str(error))
                    continue
                except ValueError as error:  # JSONDecodeError, or a number of 4,300+ digits
                    reason = getattr(error, "msg", str(error))
                    yield ImportProblem(f"{path.name}:{number}", f"not JSON ({reason})")
                    continue
                try:
                    yield _call(record, paths, line.strip())
                except ValueError as error:
                    yield ImportProblem(f"{path.name}:{number}", str(error))
                if progress and number % 10_000 == 0:
                    progress(read, size)
        except UnicodeDecodeError:  # text is decoded a block at a time: no line to name
            yield ImportProblem(path.name, "not UTF-8 text")
    if progress:
        progress(size, size)
