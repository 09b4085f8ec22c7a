"""Whether a stream's usage, as litellm hands it to a callback, came from the provider or is
litellm's own count: the litellm callback marks the latter as estimated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmbench.core.models import Usage


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def stream_usage_reported(
    kwargs: Mapping[str, Any], params: Mapping[str, Any], usage: Usage, text: str | None
) -> bool:
    """Whether a stream's usage came from the provider. litellm ends every stream with a usage,
    counting the tokens itself when the provider sent none. The provider's own chunks, which
    litellm's stream wrapper keeps, tell the two apart, but litellm hands that wrapper only to
    sync callbacks. Otherwise: a request that did not ask for usage got none, and one that did
    is trusted only when its counts differ from litellm's own count, since a server may ignore
    include_usage and nothing else in the event says so."""
    received = getattr(kwargs.get("original_response"), "chunks", None)
    if received is not None:
        return any(getattr(chunk, "usage", None) is not None for chunk in received)
    options = params.get("stream_options") or kwargs.get("stream_options") or {}
    if not _get(options, "include_usage"):
        return False
    return not _is_litellms_count(usage, kwargs, text or "")


def _is_litellms_count(usage: Usage, kwargs: Mapping[str, Any], text: str) -> bool:
    """Whether the counts are exactly what litellm's stream builder counts when a provider sent
    no usage (its token_counter over the messages and over the answer). Equal counts cannot be
    told from an estimate, so they are flagged: a flag on an exact count is the safe mistake."""
    import litellm

    model = str(kwargs.get("model") or "")
    try:
        prompt = litellm.token_counter(model=model, messages=kwargs.get("messages") or [])
        completion = litellm.token_counter(model=model, text=text, count_response_tokens=True)
    except Exception:  # a tokenizer litellm cannot load: no estimate to compare against
        return False
    return (usage.prompt_tokens, usage.completion_tokens) == (prompt, completion)
