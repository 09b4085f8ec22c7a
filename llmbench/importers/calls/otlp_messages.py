"""A GenAI span's prompt, answer and tool calls, in whichever convention set them:

- the OpenTelemetry GenAI semantic conventions: `gen_ai.system_instructions`,
  `gen_ai.input.messages` and `gen_ai.output.messages`, messages of typed parts (JSON text, or
  structured values), as litellm's OTel callback also writes them;
- OpenLLMetry (traceloop): `gen_ai.prompt.<i>.role|content`, `gen_ai.completion.<i>.content|
  finish_reason|tool_calls.<j>.id|name|arguments`, and litellm's `gen_ai.completion.<i>.
  function_call.name|arguments`;
- OpenInference: `llm.input_messages.<i>.message.role|content|tool_calls...`,
  `llm.output_messages.<i>.message...`, and `input.value` / `output.value` when no messages.

Messages come out as OpenAI's chat messages (as the audit log keeps every call's), tool calls
as the audit log's {"id", "name", "arguments"}. A value that is not what its convention says
raises ValueError, which the importer reports with the span.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmbench.importers.bounds import load_json

Attributes = Mapping[str, Any]
# Far beyond any real message list; a hostile index cannot make a list this long.
MAX_INDEX = 10_000


def indexed(attributes: Attributes, prefix: str) -> list[dict[str, Any]]:
    """Flattened list items (`<prefix>.<i>.<rest>`) as one dict of `rest` keys per index, in
    index order (gaps closed)."""
    items: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, value in attributes.items():
        if not key.startswith(start):
            continue
        index, _, rest = key[len(start) :].partition(".")
        if not index.isdigit() or not rest or int(index) > MAX_INDEX:
            continue
        items.setdefault(int(index), {})[rest] = value
    return [items[index] for index in sorted(items)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _structured(value: Any, name: str) -> Any:
    """A semconv attribute that is JSON text or already structured."""
    if isinstance(value, str):
        try:
            return load_json(value)
        except ValueError:
            raise ValueError(f"{name} is not JSON") from None
    return value


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def _tool_call(ident: Any, name: Any, arguments: Any) -> dict[str, str]:
    if not isinstance(name, str) or not name:
        raise ValueError("a tool call has no name")
    return {"id": str(ident or ""), "name": name, "arguments": _arguments(arguments)}


def _openai_tool_calls(calls: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": c["arguments"]},
        }
        for c in calls
    ]


# The OpenTelemetry GenAI semantic conventions' messages of parts.


def _parts_message(message: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """One semconv message ({"role", "parts": [...]}) as an OpenAI message and its tool calls."""
    if not isinstance(message, dict):
        raise ValueError("a message is not an object")
    role = str(message.get("role") or "user")
    texts: list[str] = []
    calls: list[dict[str, str]] = []
    result: dict[str, Any] | None = None
    parts = message.get("parts")
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("content"), str):
            texts.append(part["content"])
        elif kind == "tool_call":
            calls.append(_tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            result = {
                "role": "tool",
                "tool_call_id": str(part.get("id") or ""),
                "content": _text(part.get("response")) or "",
            }
    if result is not None and not texts:
        return result, calls
    found: dict[str, Any] = {"role": role, "content": "\n".join(texts)}
    if calls:
        found["tool_calls"] = _openai_tool_calls(calls)
    return found, calls


def _semconv_input(attributes: Attributes) -> list[dict[str, Any]] | None:
    system = attributes.get("gen_ai.system_instructions")
    given = attributes.get("gen_ai.input.messages")
    if system is None and given is None:
        return None
    messages: list[dict[str, Any]] = []
    if system is not None:
        # Plain text, or parts (JSON text or structured) as the conventions now write it.
        textual = isinstance(system, str) and not system.lstrip().startswith(("[", "{"))
        found = system if textual else _structured(system, "gen_ai.system_instructions")
        if isinstance(found, str):
            messages.append({"role": "system", "content": found})
        else:
            parts = found if isinstance(found, list) else [found]
            message, _ = _parts_message({"role": "system", "parts": parts})
            messages.append(message)
    if given is not None:
        found = _structured(given, "gen_ai.input.messages")
        if not isinstance(found, list):
            raise ValueError("gen_ai.input.messages is not a list")
        messages.extend(_parts_message(message)[0] for message in found)
    return messages


def _semconv_output(attributes: Attributes) -> tuple[str, list[dict[str, str]], str | None] | None:
    given = attributes.get("gen_ai.output.messages")
    if given is None:
        return None
    found = _structured(given, "gen_ai.output.messages")
    if not isinstance(found, list):
        raise ValueError("gen_ai.output.messages is not a list")
    if not found:
        return "", [], None
    first = found[0]  # choice 0, as the audit log keeps one answer per call
    message, calls = _parts_message(first)
    reason = first.get("finish_reason") if isinstance(first, dict) else None
    return str(message.get("content") or ""), calls, _text(reason)


# OpenLLMetry's flattened prompts and completions.


def _openllmetry_input(attributes: Attributes) -> list[dict[str, Any]] | None:
    prompts = indexed(attributes, "gen_ai.prompt")
    if not prompts:
        return None
    messages = []
    for prompt in prompts:
        message: dict[str, Any] = {
            "role": str(prompt.get("role") or "user"),
            "content": _text(prompt.get("content")) or "",
        }
        calls = [
            _tool_call(c.get("id"), c.get("name"), c.get("arguments"))
            for c in indexed(prompt, "tool_calls")
        ]
        if calls:
            message["tool_calls"] = _openai_tool_calls(calls)
        if prompt.get("tool_call_id"):
            message["tool_call_id"] = str(prompt["tool_call_id"])
        messages.append(message)
    return messages


def _openllmetry_output(
    attributes: Attributes,
) -> tuple[str, list[dict[str, str]], str | None] | None:
    completions = indexed(attributes, "gen_ai.completion")
    if not completions:
        return None
    first = completions[0]
    calls = [
        _tool_call(c.get("id"), c.get("name"), c.get("arguments"))
        for c in indexed(first, "tool_calls")
    ]
    return _text(first.get("content")) or "", calls, _text(first.get("finish_reason"))


# OpenInference's flattened messages.


def _oi_message(item: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    content = item.get("message.content")
    if content is None:  # message.contents.<k>.message_content.type|text
        texts = [
            str(part.get("message_content.text"))
            for part in indexed(item, "message.contents")
            if part.get("message_content.type", "text") == "text"
            and part.get("message_content.text") is not None
        ]
        content = "\n".join(texts)
    message: dict[str, Any] = {
        "role": str(item.get("message.role") or "user"),
        "content": _text(content) or "",
    }
    calls = [
        _tool_call(
            c.get("tool_call.id"),
            c.get("tool_call.function.name"),
            c.get("tool_call.function.arguments"),
        )
        for c in indexed(item, "message.tool_calls")
    ]
    if calls:
        message["tool_calls"] = _openai_tool_calls(calls)
    if item.get("message.tool_call_id"):
        message["tool_call_id"] = str(item["message.tool_call_id"])
    if item.get("message.name"):
        message["name"] = str(item["message.name"])
    return message, calls


def _openinference_input(attributes: Attributes) -> list[dict[str, Any]] | None:
    items = indexed(attributes, "llm.input_messages")
    if items:
        return [_oi_message(item)[0] for item in items]
    value = attributes.get("input.value")
    if value is None:
        return None
    if attributes.get("input.mime_type") == "application/json" and isinstance(value, str):
        found = _structured(value, "input.value")
        if isinstance(found, dict) and isinstance(found.get("messages"), list):
            return [m for m in found["messages"] if isinstance(m, dict)]
    return [{"role": "user", "content": _text(value) or ""}]


def _openinference_output(
    attributes: Attributes,
) -> tuple[str, list[dict[str, str]], str | None] | None:
    items = indexed(attributes, "llm.output_messages")
    if items:
        message, calls = _oi_message(items[0])
        return str(message["content"]), calls, None
    value = attributes.get("output.value")
    if value is None:
        return None
    if attributes.get("output.mime_type") == "application/json" and isinstance(value, str):
        found = _structured(value, "output.value")
        choices = found.get("choices") if isinstance(found, dict) else None
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message") or {}
            return _text(message.get("content")) or "", [], _text(choices[0].get("finish_reason"))
    return _text(value) or "", [], None


def input_messages(attributes: Attributes) -> list[dict[str, Any]] | None:
    """The messages the call sent, or None when the span carries none."""
    for reader in (_semconv_input, _openllmetry_input, _openinference_input):
        found = reader(attributes)
        if found is not None:
            return found
    return None


def _litellm_function_calls(attributes: Attributes) -> list[dict[str, str]]:
    """litellm's callback writes each choice's tool call as gen_ai.completion.<i>.function_call.
    name|arguments, beside the conventions' output messages (whose parts it leaves out)."""
    return [
        _tool_call("", item["function_call.name"], item.get("function_call.arguments"))
        for item in indexed(attributes, "gen_ai.completion")
        if "function_call.name" in item
    ]


def output(attributes: Attributes) -> tuple[str | None, list[dict[str, str]], str | None]:
    """The answer's text, its tool calls and its finish reason (None: the span has none)."""
    for reader in (_semconv_output, _openllmetry_output, _openinference_output):
        found = reader(attributes)
        if found is not None:
            text, calls, reason = found
            return text, calls or _litellm_function_calls(attributes), reason
    return None, _litellm_function_calls(attributes), None
