"""A recorded call as an OpenTelemetry span, by the GenAI semantic conventions.

Follows OpenTelemetry semantic conventions v1.37.0, "Semantic conventions for generative client
AI spans" (docs/gen-ai/gen-ai-spans.md, the inference span): name `{operation} {model}`, kind
CLIENT, `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.*`,
`gen_ai.response.model`/`finish_reasons`, `gen_ai.usage.*`, `gen_ai.conversation.id`,
`error.type`; the bodies (`gen_ai.input.messages`, `gen_ai.output.messages`, as JSON text in the
conventions' parts format) are Opt-In there and only here when asked for. `gen_ai.system`, the
name before v1.37 of `gen_ai.provider.name`, is set too, for collectors that still read it.
What the conventions have no name for is under `llmbench.*` (cost, prompt version, tags).

Pure: a row is a mapping of `calls` columns; the span is plain data (ids as integers, times in
nanoseconds since the epoch) that gateway/otel_spans.py turns into the SDK's spans.

Ids are derived, never random, so a call exported live and again from history is the same span,
and a conversation's steps share one trace whichever process sends them: the trace from
`trace_id` (taken as is when it already is 32 hex digits, as OpenTelemetry's and the SDK's are),
else the conversation, else the request; a span from its request and attempt; its parent is the
first attempt of `parent_request_id`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SEMCONV_VERSION = "1.37.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"

AttributeValue = str | bool | int | float | tuple[str, ...]

# litellm's provider prefixes → the conventions' well-known gen_ai.provider.name values
# (v1.37.0 registry); any other prefix is passed on as it is.
_PROVIDERS = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "mistral": "mistral_ai",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "watsonx": "ibm.watsonx.ai",
}
# Request params with a name of their own in the conventions.
_PARAMS = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
}
_TOKENS = {
    "prompt_tokens": "gen_ai.usage.input_tokens",
    "completion_tokens": "gen_ai.usage.output_tokens",
    "cached_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
}
_ALWAYS_COUNTED = ("prompt_tokens", "completion_tokens")
OPENINFERENCE_REASONING = "llm.token_count.completion_details.reasoning"
_TAG_COLUMNS = ("feature", "team", "customer", "task_type", "user")
_PLAIN = {
    "request_id": "llmbench.request_id",
    "arm": "llmbench.arm",
    "status": "llmbench.status",
    "model_requested": "llmbench.model_requested",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A call answered by the model or by llmbench's response cache (`llmbench.status` tells which).
_ANSWERED = ("ok", "cache_hit")


@dataclass(frozen=True)
class GenAISpan:
    name: str
    trace_id: int
    """128 bits."""
    span_id: int
    """64 bits."""
    parent_span_id: int | None
    start_ns: int
    end_ns: int
    failed: bool
    error_type: str | None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


def _bits(text: str, nbytes: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:nbytes], "big")
    return value or 1  # zero is OpenTelemetry's "no id"


def trace_id_of(row: Mapping[str, Any]) -> int:
    """The call's trace: its trace_id (as is when 32 hex digits), else its conversation, else
    its own request."""
    trace = row.get("trace_id")
    if trace:
        text = str(trace)
        if len(text) == 32:
            try:
                value = int(text, 16)
            except ValueError:
                value = 0
            if value:
                return value
        return _bits(f"llmbench-trace:{text}", 16)
    if row.get("conversation_id"):
        return _bits(f"llmbench-conversation:{row['conversation_id']}", 16)
    return _bits(f"llmbench-request:{row.get('request_id')}", 16)


def span_id_of(request_id: str, attempt: int = 1) -> int:
    return _bits(f"llmbench-span:{request_id}:{attempt}", 8)


def timestamp_ns(ts: str) -> int:
    """The store's ISO-8601 UTC timestamp as nanoseconds since the epoch, exactly."""
    moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def provider_name(provider: str | None, model: str | None) -> str:
    prefix = provider or (model.split("/", 1)[0] if model and "/" in model else "")
    return _PROVIDERS.get(prefix, prefix or "unknown")


def _bare_model(model: str | None, provider: str | None) -> str | None:
    """The model's name without llmbench's provider prefix (the provider has an attribute)."""
    if not model:
        return None
    prefix = f"{provider}/" if provider else ""
    return model[len(prefix) :] if prefix and model.startswith(prefix) else model


def _json(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _params(row: Mapping[str, Any]) -> dict[str, AttributeValue]:
    params = _json(row.get("params"), {})
    if not isinstance(params, dict):
        return {}
    out: dict[str, AttributeValue] = {}
    for key, name in _PARAMS.items():
        value = params.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    stop = params.get("stop")
    if isinstance(stop, str):
        out["gen_ai.request.stop_sequences"] = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        out["gen_ai.request.stop_sequences"] = tuple(stop)
    if isinstance(params.get("n"), int) and params["n"] != 1:
        out["gen_ai.request.choice.count"] = params["n"]
    response_format = params.get("response_format")
    if isinstance(response_format, dict) and str(response_format.get("type", "")).startswith(
        "json"
    ):
        out["gen_ai.output.type"] = "json"
    return out


def _tags(row: Mapping[str, Any]) -> dict[str, AttributeValue]:
    tags: dict[str, AttributeValue] = {
        f"llmbench.tag.{name}": str(row[name]) for name in _TAG_COLUMNS if row.get(name)
    }
    extra = _json(row.get("tags"), {})
    if isinstance(extra, dict):
        for key, value in extra.items():
            if isinstance(value, str | int | float | bool):
                tags[f"llmbench.tag.{key}"] = value
    return tags


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append({"type": "text", "content": part.get("text", "")})
            elif isinstance(part, dict):
                # images, audio, files: kept by reference in the row, named by their kind here
                parts.append({"type": str(part.get("type", "unknown"))})
    return parts


def input_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Chat messages (OpenAI's shape, as the row keeps them) in the conventions' parts format."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "user"))
        parts = _parts(message.get("content"))
        if role == "tool":
            parts = [
                {
                    "type": "tool_call_response",
                    "id": message.get("tool_call_id"),
                    "response": message.get("content"),  # ToolCallResponsePart
                }
            ]
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict):
                function = call.get("function") or {}
                parts.append(
                    {
                        "type": "tool_call",
                        "id": call.get("id"),
                        "name": function.get("name", call.get("name")),
                        "arguments": function.get("arguments", call.get("arguments")),
                    }
                )
        out.append({"role": role, "parts": parts})
    return out


def output_messages(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts = _parts(row.get("response") or "")
    for call in _json(row.get("tool_calls"), []) or ():
        if isinstance(call, dict):
            parts.append({"type": "tool_call", **call})
    if not parts:
        return []
    message: dict[str, Any] = {"role": "assistant", "parts": parts}
    if row.get("finish_reason"):
        message["finish_reason"] = row["finish_reason"]
    return [message]


def _bodies(row: Mapping[str, Any]) -> dict[str, AttributeValue]:
    bodies: dict[str, AttributeValue] = {}
    messages = _json(row.get("messages"), [])
    if isinstance(messages, list) and messages:
        bodies["gen_ai.input.messages"] = json.dumps(input_messages(messages), ensure_ascii=False)
    output = output_messages(row)
    if output:
        bodies["gen_ai.output.messages"] = json.dumps(output, ensure_ascii=False)
    return bodies


def span_of(row: Mapping[str, Any], *, include_bodies: bool = False) -> GenAISpan:
    """The span of one recorded attempt. Bodies (messages in, answer out) only with
    `include_bodies`: the conventions make them Opt-In, and they may hold personal data."""
    provider = row.get("provider") or None
    if provider == "cache":  # answered by llmbench's response cache: the model's provider
        model = str(row.get("model") or "")
        provider = model.split("/", 1)[0] if "/" in model else None
    requested = _bare_model(row.get("model_requested") or row.get("model"), provider)
    operation = "chat"
    ok = row.get("status") in _ANSWERED
    attributes: dict[str, AttributeValue] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name(provider, row.get("model")),
        "gen_ai.system": provider_name(provider, row.get("model")),
    }
    if requested:
        attributes["gen_ai.request.model"] = requested
    answered = _bare_model(row.get("model"), provider)
    if answered and (ok or row.get("response")):
        attributes["gen_ai.response.model"] = answered
    if row.get("finish_reason"):
        attributes["gen_ai.response.finish_reasons"] = (str(row["finish_reason"]),)
    for column, name in _TOKENS.items():
        value = row.get(column)
        # A zero is sent only for an answered call's own counts: a failed attempt's are
        # "none" (live rows lack them, stored ones hold 0), other kinds' "not reported".
        if isinstance(value, int) and (value or (ok and column in _ALWAYS_COUNTED)):
            attributes[name] = value
    if isinstance(row.get("reasoning_tokens"), int) and row["reasoning_tokens"]:
        # The conventions' name is not mapped by Arize Phoenix (20.26.1), which reads
        # OpenInference's: sent under both (docs/interop/phoenix.md).
        attributes[OPENINFERENCE_REASONING] = row["reasoning_tokens"]
    if row.get("conversation_id"):
        attributes["gen_ai.conversation.id"] = str(row["conversation_id"])
    if isinstance(row.get("ttft_ms"), int | float):
        attributes["gen_ai.response.time_to_first_chunk"] = float(row["ttft_ms"]) / 1000
    attributes.update(_params(row))
    error_type = None if ok else str(row.get("error_kind") or row.get("status") or "error")
    if error_type is not None:
        attributes["error.type"] = error_type
    for column, name in _PLAIN.items():
        if row.get(column):
            attributes[name] = str(row[column])
    attributes["llmbench.attempt"] = int(row.get("attempt") or 1)
    if isinstance(row.get("cost"), int | float):
        attributes["llmbench.cost_usd"] = float(row["cost"])
    if row.get("tokens_estimated"):
        attributes["llmbench.tokens_estimated"] = True
    if row.get("prompt_version_id") is not None:
        attributes["llmbench.prompt.version_id"] = int(row["prompt_version_id"])
    if row.get("prompt"):  # "name v3", when the reader joined it
        attributes["llmbench.prompt"] = str(row["prompt"])
    if row.get("run_id") is not None:
        attributes["llmbench.run_id"] = int(row["run_id"])
    for column in ("trace_id", "parent_request_id"):
        if row.get(column):
            attributes[f"llmbench.{column}"] = str(row[column])
    attributes.update(_tags(row))
    if include_bodies:
        attributes.update(_bodies(row))
    start = timestamp_ns(str(row["ts"]))
    latency = row.get("latency_ms")
    duration = round(float(latency) * 1_000_000) if isinstance(latency, int | float) else 0
    parent = row.get("parent_request_id")
    return GenAISpan(
        name=f"{operation} {requested}" if requested else operation,
        trace_id=trace_id_of(row),
        span_id=span_id_of(str(row.get("request_id")), int(row.get("attempt") or 1)),
        parent_span_id=span_id_of(str(parent)) if parent else None,
        start_ns=start,
        end_ns=start + max(duration, 0),
        failed=not ok,
        error_type=error_type,
        attributes=attributes,
    )
