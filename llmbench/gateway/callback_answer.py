"""What a call the litellm callback logs answered, and what it is counted and priced at.

The answer's text, tool calls and finish reason come from litellm's response; the usage is the
one litellm reports, with every detail the gateway's own calls are priced by (cache reads and
writes, reasoning, and the audio and image tokens of gateway/usage_details.py); the unit prices
come from litellm's table. Where the table prices input images per image, the images the
request sent are counted (gateway/completion_result.py's rule), so an app's own call costs what
the same call made through the gateway costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmbench.core.costs.pricing import SIMULATOR_PRICES
from llmbench.core.models import Price, ToolCall, Usage
from llmbench.gateway.completion_result import with_images
from llmbench.gateway.model_prices import price_in_table
from llmbench.gateway.tool_calls import tool_calls_of
from llmbench.gateway.usage_details import token_details


def get(obj: Any, name: str) -> Any:
    """A field of litellm's objects or of a plain dict alike."""
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


@dataclass(frozen=True)
class LoggedAnswer:
    text: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None


def logged_answer(response: Any) -> LoggedAnswer:
    """The answer's text, its tool calls and finish reason (all empty without a choice)."""
    choices = get(response, "choices") or []
    if not choices:
        return LoggedAnswer(None, (), None)
    choice = choices[0]
    message = get(choice, "message")
    text = get(message, "content")
    return LoggedAnswer(
        text=str(text) if text is not None else None,
        tool_calls=tool_calls_of(message),
        finish_reason=get(choice, "finish_reason"),
    )


def reported_usage(response: Any, slo: Mapping[str, Any]) -> Usage:
    """litellm's usage of the response, else its standard logging object's counts."""
    usage = get(response, "usage")
    prompt = get(usage, "prompt_tokens") or slo.get("prompt_tokens") or 0
    completion = get(usage, "completion_tokens") or slo.get("completion_tokens") or 0
    # litellm files every provider's cache reads (Anthropic's cache_read_input_tokens too) in
    # prompt_tokens_details, its cache writes in cache_creation_input_tokens, and the audio and
    # image tokens of OpenAI's and Gemini's usage in both details.
    details = token_details(usage)
    return Usage(
        prompt_tokens=int(prompt),
        completion_tokens=int(completion),
        cached_tokens=details.cached_tokens or 0,
        reasoning_tokens=details.reasoning_tokens,
        cache_write_tokens=details.cache_write_tokens,
        audio_prompt_tokens=details.audio_prompt_tokens,
        audio_completion_tokens=details.audio_completion_tokens,
        image_prompt_tokens=details.image_prompt_tokens,
    )


def logged_price(model: str, provider: str, answered: str | None) -> Price | None:
    """None means unpriced: litellm's own response_cost reports 0 for a model it has no price
    for. litellm is the host app's, already imported; it is read, never configured, here."""
    if model in SIMULATOR_PRICES:
        return SIMULATOR_PRICES[model]
    import litellm

    return price_in_table(litellm.model_cost, model, provider, answered)


def priced_usage(usage: Usage, price: Price | None, messages: Any, model: str) -> Usage:
    """The usage as the price bills it: with the images the request sent counted where the
    price is per image (their tokens by the provider's rule when the count is estimated)."""
    if price is None or price.per_image is None or not isinstance(messages, list):
        return usage
    sent = [message for message in messages if isinstance(message, Mapping)]
    return with_images(usage, sent, model)
