"""What one call answered, measured, counted and priced: the CompletionResult, built from a
whole response or from a stream's chunks as they arrive.

Token counts are the provider's when it sent them, else an offline estimate marked as such; the
cost is None (unpriced) when no price is known, never a guessed 0.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from llmbench.core.costs.pricing import cost_of
from llmbench.core.media import image_tokens as image_tokens_of
from llmbench.core.media import strip_parts
from llmbench.core.models import Price, ToolCall, Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway.call_arguments import Message
from llmbench.gateway.model_prices import price_for
from llmbench.gateway.tool_calls import ToolCallAssembler, tool_calls_text
from llmbench.gateway.usage_details import token_details


@dataclass(frozen=True)
class CompletionResult:
    text: str
    finish_reason: str | None
    model: str  # the model that answered, as the provider names it
    usage: Usage
    cost: float | None  # USD; None means unpriced (no known price), never a guessed 0
    latency_ms: float
    ttft_ms: float | None  # time to first token; only a streamed call can observe it
    price: Price | None = None  # the unit prices the cost was computed with
    tool_calls: tuple[ToolCall, ...] = ()  # the tools the model asked to call, in its order


def _usage(
    reported: Any,
    model: str,
    messages: Sequence[Message],
    text: str,
    tool_calls: Sequence[ToolCall] = (),
    params: Mapping[str, Any] | None = None,
) -> Usage:
    """The provider's counts when it sent them, else an offline estimate marked as such (with
    what the request's tool definitions and response schema add to the prompt)."""
    prompt = getattr(reported, "prompt_tokens", None) or 0
    completion = getattr(reported, "completion_tokens", None) or 0
    if not prompt and not completion:
        return Usage(
            prompt_tokens=count_message_tokens(messages, model, params),
            completion_tokens=count_tokens(
                "\n".join(filter(None, (text, tool_calls_text(tool_calls)))), model
            ),
            estimated=True,
        )
    # litellm's usage nests the details; openai_direct's Usage carries them flat.
    details = token_details(reported)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=details.cached_tokens or 0,
        reasoning_tokens=details.reasoning_tokens,
        cache_write_tokens=details.cache_write_tokens,
        audio_prompt_tokens=details.audio_prompt_tokens,
        audio_completion_tokens=details.audio_completion_tokens,
        image_prompt_tokens=details.image_prompt_tokens,
    )


def with_images(usage: Usage, messages: Sequence[Message], model: str) -> Usage:
    """The usage with the request's images counted, for a price per image: the images it
    sent, and when the estimate counted them, their tokens by the provider's rule. The
    litellm callback prices what it logs by it too (gateway/callback_answer.py)."""
    images = [part for part in strip_parts(list(messages))[1] if part.kind == "image"]
    if not images:
        return usage
    image_tokens = usage.image_prompt_tokens
    if usage.estimated:
        image_tokens = sum(image_tokens_of(model, p.width, p.height, p.detail) for p in images)
    return replace(usage, images=len(images), image_prompt_tokens=image_tokens)


def completion_result(
    *,
    model: str,
    answered_model: str | None,
    messages: Sequence[Message],
    text: str,
    finish_reason: str | None,
    reported_usage: Any,
    latency_ms: float,
    ttft_ms: float | None,
    known_price: Price | None = None,
    tool_calls: Sequence[ToolCall] = (),
    params: Mapping[str, Any] | None = None,
) -> CompletionResult:
    if answered_model and model.endswith(f"/{answered_model}"):
        # Streams name the model without its provider prefix ("mock" for "llmbench/mock").
        answered_model = model
    usage = _usage(reported_usage, model, messages, text, tool_calls, params)
    # The requested name's price, when it has one, is also the answered name's (price_in_table).
    price = known_price or price_for(model, answered_model)
    if price is not None and price.per_image is not None:
        usage = with_images(usage, messages, model)
    return CompletionResult(
        text=text,
        finish_reason=finish_reason,
        model=answered_model or model,
        usage=usage,
        cost=cost_of(usage, price),
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        price=price,
        tool_calls=tuple(tool_calls),
    )


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class StreamReader:
    """What a stream's chunks add up to, whichever client produced them (litellm's and the
    OpenAI SDK's chunks have the same shape)."""

    def __init__(
        self,
        model: str,
        messages: Sequence[Message],
        price: Price | None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.messages = messages
        self.price = price
        self.params = params
        self.started = time.perf_counter()
        self.ttft_ms: float | None = None
        self.pieces: list[str] = []
        self.finish_reason: str | None = None
        self.answered_model: str | None = None
        self.reported_usage: Any = None
        self.tool_calls = ToolCallAssembler()

    def read(self, chunk: Any) -> str | None:
        """The chunk's text, if any, after noting its model, usage and finish reason."""
        self.answered_model = getattr(chunk, "model", None) or self.answered_model
        if getattr(chunk, "usage", None) is not None:
            self.reported_usage = chunk.usage
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        self.finish_reason = choice.finish_reason or self.finish_reason
        text: str | None = choice.delta.content if choice.delta is not None else None
        if choice.delta is not None:
            self.tool_calls.add(getattr(choice.delta, "tool_calls", None))
        if text:
            if self.ttft_ms is None:
                self.ttft_ms = elapsed_ms(self.started)
            self.pieces.append(text)
        return text or None

    def result(self) -> CompletionResult:
        return completion_result(
            model=self.model,
            answered_model=self.answered_model,
            messages=self.messages,
            text="".join(self.pieces),
            finish_reason=self.finish_reason,
            reported_usage=self.reported_usage,
            latency_ms=elapsed_ms(self.started),
            ttft_ms=self.ttft_ms,
            known_price=self.price,
            tool_calls=self.tool_calls.calls(),
            params=self.params,
        )
