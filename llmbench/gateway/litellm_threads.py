"""Where a call the litellm callback records sits in a conversation and a trace, from what
litellm passes its loggers: `kwargs["litellm_params"]` holds the call's `litellm_session_id`
and `litellm_trace_id` (litellm derives each from the other and from `metadata.session_id` /
`metadata.trace_id` when only one was given) and the caller's `metadata`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmbench.core.models import THREAD_ID_MAX


def _metadata(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    litellm_params = kwargs.get("litellm_params") or {}
    return litellm_params.get("metadata") or kwargs.get("metadata") or {}


# The call's place in a conversation and a trace, from litellm's metadata: its own columns,
# never tags.
THREAD_METADATA = frozenset({"session_id", "trace_id", "parent_request_id"})


def _thread_id(value: Any) -> str | None:
    """An id as the audit log keeps it; None for anything that is not one (never raised)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if text and len(text) <= THREAD_ID_MAX and text.isprintable() else None


def thread_columns(kwargs: Mapping[str, Any]) -> dict[str, str | None]:
    """conversation_id from litellm's session (`metadata.session_id`, or the call's
    `litellm_session_id`); trace_id from `metadata.trace_id` or a `litellm_trace_id` the app
    passed (a Router's own trace id, which groups its retries, stays the `trace_id` tag);
    parent_request_id from `metadata.parent_request_id`."""
    litellm_params = kwargs.get("litellm_params") or {}
    metadata = _metadata(kwargs)
    given_trace = _thread_id(metadata.get("trace_id"))
    conversation = _thread_id(metadata.get("session_id")) or _thread_id(
        litellm_params.get("litellm_session_id") or kwargs.get("litellm_session_id")
    )
    if conversation is not None and conversation == given_trace and not metadata.get("session_id"):
        conversation = None  # litellm took the trace id for a session: it is the trace
    trace = given_trace
    if trace is None and "model_group" not in metadata:
        passed = _thread_id(litellm_params.get("litellm_trace_id"))
        trace = passed if passed != conversation else None
    return {
        "conversation_id": conversation,
        "trace_id": trace,
        "parent_request_id": _thread_id(metadata.get("parent_request_id")),
    }
