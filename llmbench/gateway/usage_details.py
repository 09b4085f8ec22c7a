"""The token details of a provider's usage, whatever shape it comes in: OpenAI's JSON
(`prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`), litellm's
Usage (the same, plus `cache_read_input_tokens` and `cache_creation_input_tokens` it maps from
Anthropic, and Gemini's `thoughtsTokenCount` as reasoning_tokens), Anthropic's own usage, and
the gateway's flat Usage objects; also the audio tokens of either side and the prompt's image
tokens, which price a call where litellm's table has rates of their own for them. A count the
provider did not give is None, never 0; a reasoning, cache-write, audio or image count of 0 is
None too: OpenAI sends `reasoning_tokens: 0` (and `audio_tokens: 0`) for every model that does
not reason (or hear) and litellm's stream builder fills them in when a server sent nothing, and
a row without them seals as rows did before m014."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _get(container: Any, name: str) -> Any:
    if container is None:
        return None
    if isinstance(container, Mapping):
        return container.get(name)
    return getattr(container, name, None)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _first(*values: Any) -> int | None:
    for value in values:
        counted = _count(value)
        if counted is not None:
            return counted
    return None


@dataclass(frozen=True)
class TokenDetails:
    cached_tokens: int | None
    reasoning_tokens: int | None
    cache_write_tokens: int | None
    # OpenAI's audio models (`audio_tokens` of either details; 0 when none, taken as None) and
    # image tokens (litellm's `image_tokens`, from Gemini's promptTokensDetails).
    audio_prompt_tokens: int | None = None
    audio_completion_tokens: int | None = None
    image_prompt_tokens: int | None = None


def token_details(usage: Any) -> TokenDetails:
    """Cache reads, reasoning, cache writes, audio and image tokens of one usage (each None
    when not given)."""
    prompt_details = _get(usage, "prompt_tokens_details")
    completion_details = _get(usage, "completion_tokens_details")
    return TokenDetails(
        cached_tokens=_first(
            _get(prompt_details, "cached_tokens"),
            _get(usage, "cached_tokens"),
            _get(usage, "cache_read_input_tokens"),
        ),
        reasoning_tokens=_first(
            _get(completion_details, "reasoning_tokens"), _get(usage, "reasoning_tokens")
        )
        or None,
        cache_write_tokens=_first(
            _get(usage, "cache_creation_input_tokens"),
            _get(prompt_details, "cache_creation_tokens"),
            _get(prompt_details, "cache_write_tokens"),
            _get(usage, "cache_write_tokens"),
        )
        or None,
        audio_prompt_tokens=_first(
            _get(prompt_details, "audio_tokens"), _get(usage, "audio_prompt_tokens")
        )
        or None,
        audio_completion_tokens=_first(
            _get(completion_details, "audio_tokens"), _get(usage, "audio_completion_tokens")
        )
        or None,
        image_prompt_tokens=_first(
            _get(prompt_details, "image_tokens"), _get(usage, "image_prompt_tokens")
        )
        or None,
    )
