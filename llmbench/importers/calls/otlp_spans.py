"""GenAI spans as calls for the audit log: which spans are model calls, and the call row each
becomes (model, tokens, status, latency, conversation and trace, prompt, answer, tool calls).

The attribute sets read, each from its published conventions (tests/data/otlp/README.md names
the sources): the OpenTelemetry GenAI semantic conventions (`gen_ai.*`, which litellm's OTel
callback writes), OpenLLMetry / traceloop (`gen_ai.prompt.<i>.*`, `gen_ai.usage.prompt_tokens`,
`llm.usage.total_tokens`, `traceloop.*`) and OpenInference (`openinference.span.kind`,
`llm.model_name`, `llm.token_count.*`, `session.id`). The first attribute of a field's list that
a span holds wins. Cost is left to the importer, which prices by the call's day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from llmbench.core.audit.redact import Redactor
from llmbench.core.models import THREAD_ID_MAX
from llmbench.importers.calls.common import to_store_time, tokens
from llmbench.importers.calls.otlp_messages import input_messages, output
from llmbench.importers.calls.otlp_request import STATUS_ERROR, SpanRecord

SOURCE_TAG = "otlp"
Attributes = Mapping[str, Any]

# gen_ai.operation.name values that are one call to a model, and those that are not (agents,
# tools: their model calls are spans of their own).
_MODEL_OPERATIONS = {"chat", "text_completion", "generate_content", "embeddings", "completion",
                     "embedding", "responses"}  # fmt: skip
_OTHER_OPERATIONS = {"invoke_agent", "create_agent", "execute_tool", "invoke_workflow"}
_OPENINFERENCE_MODEL_KINDS = {"LLM", "EMBEDDING"}
# Bodies from an app's spans are masked as the gateway masks a call's: keys and secrets never
# reach the log.
_REDACTOR = Redactor()
# How many spans up a call's parent call is looked for (agents nest a few levels, not dozens).
MAX_DEPTH = 64

_FIELDS: dict[str, tuple[str, ...]] = {
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name",
              "llm.response.model", "llm.request.model"),
    "model_requested": ("gen_ai.request.model", "llm.request.model", "llm.model_name"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "prompt_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                      "llm.token_count.prompt", "llm.usage.prompt_tokens"),
    "completion_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                          "llm.token_count.completion", "llm.usage.completion_tokens"),
    "total_tokens": ("llm.usage.total_tokens", "gen_ai.usage.total_tokens",
                     "llm.token_count.total"),
    "cached_tokens": ("gen_ai.usage.cache_read.input_tokens",
                      "gen_ai.usage.cache_read_input_tokens",
                      "llm.token_count.prompt_details.cache_read"),
    # Where the call sits in a conversation: the conventions' id, OpenInference's session,
    # OpenLLMetry's association property, litellm's metadata.
    "conversation_id": ("gen_ai.conversation.id", "session.id",
                        "traceloop.association.properties.session_id",
                        "traceloop.association.properties.conversation_id",
                        "metadata.session_id"),
    "user": ("user.id", "enduser.id", "traceloop.association.properties.user_id", "llm.user",
             "metadata.user_api_key_end_user_id"),
    "response_id": ("gen_ai.response.id",),
    "max_tokens": ("gen_ai.request.max_tokens",),
    "temperature": ("gen_ai.request.temperature",),
    "top_p": ("gen_ai.request.top_p",),
    "finish_reasons": ("gen_ai.response.finish_reasons", "llm.response.finish_reason"),
    "error_type": ("error.type",),
}  # fmt: skip


def _first(attributes: Attributes, field: str) -> Any:
    for name in _FIELDS[field]:
        value = attributes.get(name)
        if value is not None and value != "":
            return value
    return None


def is_model_call(attributes: Attributes) -> bool:
    """Whether a span is one call to a model (a GenAI span the audit log records): its
    operation or kind says so, or, when it names neither, it names a model."""
    operation = attributes.get("gen_ai.operation.name")
    if operation in _MODEL_OPERATIONS:
        return True
    if operation in _OTHER_OPERATIONS:
        return False
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind:
        return kind.upper() in _OPENINFERENCE_MODEL_KINDS
    if attributes.get("llm.request.type"):  # OpenLLMetry's chat, completion or embedding
        return True
    if attributes.get("traceloop.span.kind"):  # a workflow, task, agent or tool
        return False
    return any(attributes.get(name) for name in _FIELDS["model"])


def request_id(trace_id: str, span_id: str) -> str:
    """A span's call as the audit log names it (span ids are unique within their trace)."""
    return f"{SOURCE_TAG}:{trace_id}:{span_id}"


def _id(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} is not an id: {type(value).__name__}")
    found = str(value)
    if len(found) > THREAD_ID_MAX or not found.isprintable():
        raise ValueError(f"{name} is not a printable id of at most {THREAD_ID_MAX} characters")
    return found


def _counts(attributes: Attributes) -> tuple[int, int, int]:
    prompt = _first(attributes, "prompt_tokens")
    completion = tokens(_first(attributes, "completion_tokens"), "completion tokens")
    total = _first(attributes, "total_tokens")
    if prompt is None and total is not None:
        # OpenLLMetry's streaming spans may carry only the total and the completion.
        prompt = max(tokens(total, "total tokens") - completion, 0)
    cached = tokens(_first(attributes, "cached_tokens"), "cached tokens")
    return tokens(prompt, "prompt tokens"), completion, cached


def _finish_reason(attributes: Attributes, from_output: str | None) -> str | None:
    found = _first(attributes, "finish_reasons")
    if isinstance(found, str) and found.startswith("["):
        with suppress(ValueError):
            found = json.loads(found)  # litellm writes the list as JSON text
    if isinstance(found, list):
        found = found[0] if found else None
    return str(found) if found is not None else from_output


def _status(span: SpanRecord) -> tuple[str, str | None, str | None]:
    """(status, error text, error kind) from the span's status, exception events and
    `error.type`."""
    error_type = _first(span.attributes, "error_type")
    if span.status_code != STATUS_ERROR and error_type is None:
        return "ok", None, None
    messages = [
        f"{event.get('exception.type') or 'exception'}: {event.get('exception.message') or ''}"
        for name, event in span.events
        if name == "exception"
    ]
    text = span.status_message or (messages[0] if messages else None) or str(error_type or "")
    kind = str(error_type) if error_type is not None else None
    lowered = f"{text} {kind or ''}".lower()
    if "timeout" in lowered or "timed out" in lowered:
        return "timeout", text or "timeout", kind
    if "ratelimit" in lowered.replace(" ", "").replace("_", "") or "429" in lowered:
        return "rate_limited", text or "rate limited", kind
    return "error", text or "error", kind


def _params(attributes: Attributes) -> str:
    params: dict[str, Any] = {}
    invocation = attributes.get("llm.invocation_parameters")  # OpenInference: JSON text
    if isinstance(invocation, str):
        try:
            found = json.loads(invocation)
        except ValueError:
            found = None
        if isinstance(found, dict):
            params.update(found)
    for name in ("max_tokens", "temperature", "top_p"):
        value = _first(attributes, name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            params[name] = value
    return json.dumps(params, ensure_ascii=False, sort_keys=True)


def _tags(span: SpanRecord) -> str:
    tags = {"source": SOURCE_TAG, "span": span.name}
    service = span.resource.get("service.name")
    if isinstance(service, str) and service:
        tags["service"] = service
    response_id = _first(span.attributes, "response_id")
    if response_id is not None:
        tags["response_id"] = str(response_id)
    return json.dumps(tags, ensure_ascii=False)


def call_of(span: SpanRecord, parent_request_id: str | None = None) -> dict[str, Any]:
    """The call a model-call span records, made under the call `parent_request_id` names.
    Raises ValueError for a span that cannot be a call."""
    attributes = span.attributes
    model = _first(attributes, "model")
    if model is None:
        raise ValueError("no model (gen_ai.request.model, gen_ai.response.model or llm.model_name)")
    if span.start_ns <= 0:
        raise ValueError("no start time")
    if span.end_ns < span.start_ns:
        raise ValueError("ends before it starts")
    prompt_tokens, completion_tokens, cached_tokens = _counts(attributes)
    messages = _REDACTOR.value(input_messages(attributes))
    response, tool_calls, reason = _REDACTOR.value(output(attributes))
    status, error, error_kind = _status(span)
    error = _REDACTOR.text(error) if error is not None else None
    user = _first(attributes, "user")
    return {
        "ts": to_store_time(span.start_ns / 1e9),
        "request_id": request_id(span.trace_id, span.span_id),
        "model_requested": str(_first(attributes, "model_requested") or model),
        "model": str(model),
        "provider": str(_first(attributes, "provider") or ""),
        "messages": json.dumps(messages, ensure_ascii=False) if messages is not None else None,
        "response": response,
        "tool_calls": json.dumps(tool_calls, ensure_ascii=False) if tool_calls else None,
        "finish_reason": _finish_reason(attributes, reason),
        "params": _params(attributes),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cached_tokens": cached_tokens,
        "cost": None,
        "latency_ms": (span.end_ns - span.start_ns) / 1e6,
        "status": status,
        "error": error,
        "error_kind": error_kind,
        "user": str(user) if user is not None else None,
        "tags": _tags(span),
        "conversation_id": _id(_first(attributes, "conversation_id"), "conversation id"),
        "trace_id": span.trace_id,
        "parent_request_id": parent_request_id,
    }


@dataclass
class SpanLinks:
    """How the spans seen so far hang together: the request ids of the model-call spans, and
    each other span's parent, so a call made inside an agent, workflow or tool span is linked
    to the model call that span was made under."""

    calls: set[str] = field(default_factory=set)
    through: dict[str, str] = field(default_factory=dict)

    def add(self, spans: Iterable[SpanRecord]) -> None:
        for span in spans:
            own = request_id(span.trace_id, span.span_id)
            if is_model_call(span.attributes):
                self.calls.add(own)
            elif span.parent_span_id:
                self.through[own] = request_id(span.trace_id, span.parent_span_id)

    def parent_call(self, span: SpanRecord) -> tuple[str | None, str | None]:
        """(the nearest model call above `span`, else the first ancestor not seen here: it may
        be a call the audit log already holds)."""
        if not span.parent_span_id:
            return None, None
        ancestor = request_id(span.trace_id, span.parent_span_id)
        for _ in range(MAX_DEPTH):
            if ancestor in self.calls:
                return ancestor, None
            if ancestor not in self.through:
                return None, ancestor
            ancestor = self.through[ancestor]
        return None, None  # a cycle of parents, or a chain too deep to be real


@dataclass
class SpanCalls:
    """What a set of spans gives the audit log: their model calls, the spans that cannot be
    calls (each with why), and how many were not GenAI model calls (skipped)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0


def span_problem(span: SpanRecord, message: str) -> str:
    return f"span {span.name[:80]!r} ({span.span_id}): {message}"


def calls_of_spans(
    spans: Sequence[SpanRecord],
    recorded_before: Callable[[list[str]], Container[str]] | None = None,
    links: SpanLinks | None = None,
) -> SpanCalls:
    """The calls of `spans`, each linked to the nearest model call above it among `spans` and
    `links` (spans seen elsewhere, e.g. the rest of a file), else to an ancestor that
    `recorded_before` (asked once, with those not seen) says the audit log holds."""
    known = SpanLinks() if links is None else links
    known.add(spans)
    model_calls = [span for span in spans if is_model_call(span.attributes)]
    parents = {
        request_id(span.trace_id, span.span_id): known.parent_call(span) for span in model_calls
    }
    unseen = sorted({unseen for _, unseen in parents.values() if unseen is not None})
    held = recorded_before(unseen) if recorded_before and unseen else ()
    found = SpanCalls(skipped=len(spans) - len(model_calls))
    for span in model_calls:
        call, unseen_parent = parents[request_id(span.trace_id, span.span_id)]
        if call is None and unseen_parent is not None and unseen_parent in held:
            call = unseen_parent
        try:
            found.calls.append(call_of(span, call))
        except ValueError as error:
            found.problems.append(span_problem(span, str(error)))
    return found
