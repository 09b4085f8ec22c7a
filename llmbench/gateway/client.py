"""The one door to models: one attempt at a call through litellm, measured, counted and priced,
from async code or (on one background loop) from synchronous code.

litellm is imported on the first call (it takes seconds), never when this module is imported.
litellm's own retries are off: callers that retry do so above complete(), so each attempt
can be seen and recorded. With `transport="direct"`, openai/... models are called with the
OpenAI SDK instead (gateway.openai_direct), and litellm is not imported for them at all.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from llmbench.gateway import openai_direct
from llmbench.gateway.background_loop import BackgroundLoop
from llmbench.gateway.call_arguments import (
    Message,
    Transport,
    call_kwargs,
    direct_request,
    load_litellm,
    priced_name,
    uses_direct,
)
from llmbench.gateway.completion_result import (
    CompletionResult,
    StreamReader,
    completion_result,
    elapsed_ms,
)
from llmbench.gateway.litellm_setup import gateway_pricing
from llmbench.gateway.model_prices import price_for
from llmbench.gateway.tool_calls import tool_calls_of

DEFAULT_TIMEOUT_S = 60.0

T = TypeVar("T")


async def complete(
    model: str,
    messages: Sequence[Message],
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    transport: Transport = "litellm",
) -> CompletionResult:
    """One attempt at a chat completion. litellm's exceptions (RateLimitError, Timeout, ...),
    or the OpenAI SDK's of the same names, propagate unchanged for the caller to classify."""
    if uses_direct(model, transport):
        return await _complete_direct(model, messages, params, timeout)
    litellm = load_litellm()
    kwargs = call_kwargs(model, messages, params, timeout)
    price = price_for(priced_name(model))
    started = time.perf_counter()
    # litellm would price the response again from its own table, at a cost in CPU larger than
    # the rest of the gateway's work on a call: see litellm_setup.
    with gateway_pricing(price):
        response = await litellm.acompletion(**kwargs)
    latency_ms = elapsed_ms(started)
    choice = response.choices[0]
    return completion_result(
        model=model,
        answered_model=response.model,
        messages=messages,
        text=choice.message.content or "",
        finish_reason=choice.finish_reason,
        reported_usage=getattr(response, "usage", None),
        latency_ms=latency_ms,
        ttft_ms=None,
        known_price=price,
        tool_calls=tool_calls_of(choice.message),
        params=params,
    )


async def _complete_direct(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None, timeout: float
) -> CompletionResult:
    endpoint, body = direct_request(model, messages, params)
    price = price_for(model)
    started = time.perf_counter()
    answer = await openai_direct.create(endpoint, body, timeout)
    return completion_result(
        model=model,
        answered_model=answer.model,
        messages=messages,
        text=answer.text,
        finish_reason=answer.finish_reason,
        reported_usage=answer.usage,
        latency_ms=elapsed_ms(started),
        ttft_ms=None,
        known_price=price,
        tool_calls=answer.tool_calls,
        params=params,
    )


async def _stream_direct(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None, timeout: float
) -> AsyncIterator[str | CompletionResult]:
    endpoint, body = direct_request(model, messages, params)
    body.setdefault("stream_options", {"include_usage": True})
    reader = StreamReader(model, messages, price_for(model), params)
    async for chunk in openai_direct.chunks(endpoint, body, timeout):
        text = reader.read(chunk)
        if text:
            yield text
    yield reader.result()


async def stream(
    model: str,
    messages: Sequence[Message],
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    transport: Transport = "litellm",
) -> AsyncIterator[str | CompletionResult]:
    """Yield the answer's text chunks as they arrive, then one CompletionResult."""
    if uses_direct(model, transport):
        async for piece in _stream_direct(model, messages, params, timeout):
            yield piece
        return
    litellm = load_litellm()
    kwargs = call_kwargs(model, messages, params, timeout)
    kwargs["stream"] = True
    kwargs.setdefault("stream_options", {"include_usage": True})
    price = price_for(priced_name(model))
    reader = StreamReader(model, messages, price, params)
    with gateway_pricing(price):  # entered and left before the first yield: one context
        response = await litellm.acompletion(**kwargs)
    try:
        async for chunk in response:
            text = reader.read(chunk)
            if text:
                yield text
    except litellm.exceptions.MidStreamFallbackError as error:
        # An error before any content is the request's own failure (a 429, a timeout):
        # surface litellm's exception for it, as complete() would.
        original = error.original_exception
        if error.is_pre_first_chunk and isinstance(original, Exception):
            raise original from None
        raise
    if not _provider_sent_usage(response):
        reader.reported_usage = None  # litellm's estimate: count offline and mark it estimated
    yield reader.result()


def _provider_sent_usage(response: Any) -> bool:
    """Whether a stream's usage came from the provider. When a server sends none, litellm
    still ends the stream with a usage chunk, estimated by its own token counter; only the
    provider's chunks that litellm keeps (`chunks`) tell the two apart."""
    received = getattr(response, "chunks", None)
    if received is None:
        return False  # cannot tell: treat the counts as estimates
    return any(getattr(chunk, "usage", None) is not None for chunk in received)


async def shutdown() -> None:
    """Finish litellm's background callback work on this event loop; call before the loop
    closes. Does nothing if no call was ever made."""
    from llmbench.gateway.litellm_setup import stop_background_work

    await openai_direct.close_clients()
    await stop_background_work()


_background = BackgroundLoop(shutdown)


def complete_sync(
    model: str,
    messages: Sequence[Message],
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> CompletionResult:
    """complete() for synchronous code (the CLI); safe to call from any thread."""
    return _background.run(complete(model, messages, params=params, timeout=timeout))


def shutdown_sync() -> None:
    """shutdown() for the loop complete_sync() uses; a CLI command calls it when done. It
    also runs at interpreter exit."""
    _background.finish_background_work()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run any gateway coroutine from synchronous code, on the same background loop."""
    return _background.run(coroutine)
