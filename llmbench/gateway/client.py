"""The one door to models: one call through litellm, measured, counted and priced.

litellm is imported on the first call (it takes seconds), never when this module is imported.
litellm's own retries are off: callers that retry do so above complete(), so each attempt
can be seen and recorded. With `transport="direct"`, openai/... models are called with the
OpenAI SDK instead (gateway.openai_direct), and litellm is not imported for them at all.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import importlib.util
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TypeVar

from llmbench.builtin_models.simulator import PROVIDER
from llmbench.core.costs.pricing import PER_MILLION, SIMULATOR_PRICES, cost_of
from llmbench.core.models import Price, Usage
from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.gateway import openai_direct
from llmbench.gateway.keys import get_key, provider_for_litellm
from llmbench.gateway.litellm_setup import gateway_pricing

DEFAULT_TIMEOUT_S = 60.0

# Set by the gateway itself on every call; a caller's params may not override them.
RESERVED_PARAMS = frozenset(
    {"model", "messages", "stream", "timeout", "num_retries", "max_retries", "mock_response"}
)

Message = Mapping[str, Any]
T = TypeVar("T")
Transport = Literal["direct", "litellm"]


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


def _litellm() -> ModuleType:
    from llmbench.gateway.litellm_setup import litellm_module

    return litellm_module()


def _call_kwargs(
    model: str,
    messages: Sequence[Message],
    params: Mapping[str, Any] | None,
    timeout: float,
) -> dict[str, Any]:
    params = dict(params or {})
    reserved = sorted(RESERVED_PARAMS.intersection(params))
    if reserved:
        raise ValueError(f"params may not set {', '.join(reserved)}: the gateway sets them")
    kwargs: dict[str, Any] = {
        **params,
        "model": model,
        "messages": [dict(message) for message in messages],
        "timeout": timeout,
        # litellm's retries and the OpenAI SDK's (2 by default) would hide attempts.
        "num_retries": 0,
        "max_retries": 0,
    }
    if "api_key" not in kwargs:
        api_key = _keyring_api_key(model)
        if api_key is not None:
            kwargs["api_key"] = api_key
    return kwargs


# get_llm_provider() costs tens of microseconds and a call needs it up to three times; its
# answer for a name changes only when a custom provider is registered, hence the second key.
_providers: dict[tuple[str, int], str | None] = {}


def _provider_of(model: str) -> str | None:
    litellm = _litellm()
    key = (model, len(litellm.custom_provider_map))
    if key in _providers:
        return _providers[key]
    try:
        provider: str | None = litellm.get_llm_provider(model)[1]
    except litellm.exceptions.BadRequestError:
        provider = None  # litellm will report the unknown provider when called
    if len(_providers) < 1024:  # model names come from config: a handful, but never unbounded
        _providers[key] = provider
    return provider


def _direct(model: str, transport: Transport) -> bool:
    return transport == "direct" and openai_direct.handles(model)


def _keyring_api_key(model: str, provider: str | None = None) -> str | None:
    """A key from the OS keyring when the provider's environment variable is not set;
    litellm (and the OpenAI SDK) read the environment themselves."""
    if model.startswith(f"{PROVIDER}/"):
        return None
    provider = provider or _provider_of(model)
    spec = provider_for_litellm(provider) if provider else None
    if spec is None:
        return None
    source = get_key(spec.provider)
    if source is None or source.source == "env":
        return None
    return source.value


# --- price -----------------------------------------------------------------------------------


def _price_from_entry(entry: Mapping[str, Any]) -> Price | None:
    input_cost = entry.get("input_cost_per_token")
    output_cost = entry.get("output_cost_per_token")
    if input_cost is None or output_cost is None:
        return None
    cached_cost = entry.get("cache_read_input_token_cost")
    return Price(
        input=input_cost * PER_MILLION,
        output=output_cost * PER_MILLION,
        cached=(cached_cost if cached_cost is not None else input_cost) * PER_MILLION,
    )


def price_in_table(
    table: Mapping[str, Mapping[str, Any]], model: str, provider: str, answered: str | None = None
) -> Price | None:
    """The unit prices from an explicit entry of litellm's table, only of the same provider: a
    self-hosted "gpt-4o-mini" is not billed at OpenAI's price, whatever name the server answers
    with; and litellm's get_model_info() answers 0 for some models it does not list, which
    would be a silent 0."""
    if model in table:
        return _price_from_entry(table[model])
    base = model.split("/", 1)[1] if provider and model.startswith(f"{provider}/") else model
    names = [f"{provider}/{base}", base]
    if answered:
        names += [f"{provider}/{answered}", answered]
    for name in names:
        entry = table.get(name)
        if entry is not None and entry.get("litellm_provider") == provider:
            return _price_from_entry(entry)
    return None


@functools.cache
def _bundled_price_table() -> dict[str, Any]:
    """litellm's price table, read from the file it ships without importing litellm (the
    same file litellm loads, as LITELLM_LOCAL_MODEL_COST_MAP is set)."""
    spec = importlib.util.find_spec("litellm")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "model_prices_and_context_window_backup.json"
        if path.exists():
            table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return table
    return {}


def litellm_price(model: str, answered_model: str | None = None) -> Price | None:
    if openai_direct.handles(model) and "litellm" not in sys.modules:
        return price_in_table(_bundled_price_table(), model, "openai", answered_model)
    provider = _provider_of(model)
    if provider is None:
        return None
    return price_in_table(_litellm().model_cost, model, provider, answered_model)


def price_for(model: str, answered_model: str | None = None) -> Price | None:
    if model in SIMULATOR_PRICES:
        return SIMULATOR_PRICES[model]
    return litellm_price(model, answered_model)


# --- results ---------------------------------------------------------------------------------


def _usage(reported: Any, model: str, messages: Sequence[Message], text: str) -> Usage:
    """The provider's counts when it sent them, else an offline estimate marked as such."""
    prompt = getattr(reported, "prompt_tokens", None) or 0
    completion = getattr(reported, "completion_tokens", None) or 0
    if not prompt and not completion:
        return Usage(
            prompt_tokens=count_message_tokens(messages, model),
            completion_tokens=count_tokens(text, model),
            estimated=True,
        )
    details = getattr(reported, "prompt_tokens_details", None)
    # litellm's usage nests the cached count; openai_direct's Usage carries it flat.
    cached = getattr(details, "cached_tokens", None) or getattr(reported, "cached_tokens", 0)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached)


def _result(
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
) -> CompletionResult:
    if answered_model and model.endswith(f"/{answered_model}"):
        # Streams name the model without its provider prefix ("mock" for "llmbench/mock").
        answered_model = model
    usage = _usage(reported_usage, model, messages, text)
    # The requested name's price, when it has one, is also the answered name's (price_in_table).
    price = known_price or price_for(model, answered_model)
    return CompletionResult(
        text=text,
        finish_reason=finish_reason,
        model=answered_model or model,
        usage=usage,
        cost=cost_of(usage, price),
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        price=price,
    )


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# --- calls -----------------------------------------------------------------------------------


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
    if _direct(model, transport):
        return await _complete_direct(model, messages, params, timeout)
    litellm = _litellm()
    kwargs = _call_kwargs(model, messages, params, timeout)
    price = price_for(model)
    started = time.perf_counter()
    # litellm would price the response again from its own table, at a cost in CPU larger than
    # the rest of the gateway's work on a call: see litellm_setup.
    with gateway_pricing(price):
        response = await litellm.acompletion(**kwargs)
    latency_ms = _elapsed_ms(started)
    choice = response.choices[0]
    return _result(
        model=model,
        answered_model=response.model,
        messages=messages,
        text=choice.message.content or "",
        finish_reason=choice.finish_reason,
        reported_usage=getattr(response, "usage", None),
        latency_ms=latency_ms,
        ttft_ms=None,
        known_price=price,
    )


async def _complete_direct(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None, timeout: float
) -> CompletionResult:
    endpoint, body = _direct_request(model, messages, params)
    price = price_for(model)
    started = time.perf_counter()
    answer = await openai_direct.create(endpoint, body, timeout)
    return _result(
        model=model,
        answered_model=answer.model,
        messages=messages,
        text=answer.text,
        finish_reason=answer.finish_reason,
        reported_usage=answer.usage,
        latency_ms=_elapsed_ms(started),
        ttft_ms=None,
        known_price=price,
    )


def _direct_request(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None
) -> tuple[openai_direct.Endpoint, dict[str, Any]]:
    params = dict(params or {})
    reserved = sorted(RESERVED_PARAMS.intersection(params))
    if reserved:
        raise ValueError(f"params may not set {', '.join(reserved)}: the gateway sets them")
    api_key = None if "api_key" in params else _keyring_api_key(model, "openai")
    return openai_direct.request(model, messages, params, api_key)


class _StreamReader:
    """What a stream's chunks add up to, whichever client produced them (litellm's and the
    OpenAI SDK's chunks have the same shape)."""

    def __init__(self, model: str, messages: Sequence[Message], price: Price | None) -> None:
        self.model = model
        self.messages = messages
        self.price = price
        self.started = time.perf_counter()
        self.ttft_ms: float | None = None
        self.pieces: list[str] = []
        self.finish_reason: str | None = None
        self.answered_model: str | None = None
        self.reported_usage: Any = None

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
        if text:
            if self.ttft_ms is None:
                self.ttft_ms = _elapsed_ms(self.started)
            self.pieces.append(text)
        return text or None

    def result(self) -> CompletionResult:
        return _result(
            model=self.model,
            answered_model=self.answered_model,
            messages=self.messages,
            text="".join(self.pieces),
            finish_reason=self.finish_reason,
            reported_usage=self.reported_usage,
            latency_ms=_elapsed_ms(self.started),
            ttft_ms=self.ttft_ms,
            known_price=self.price,
        )


async def _stream_direct(
    model: str, messages: Sequence[Message], params: Mapping[str, Any] | None, timeout: float
) -> AsyncIterator[str | CompletionResult]:
    endpoint, body = _direct_request(model, messages, params)
    body.setdefault("stream_options", {"include_usage": True})
    reader = _StreamReader(model, messages, price_for(model))
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
    if _direct(model, transport):
        async for piece in _stream_direct(model, messages, params, timeout):
            yield piece
        return
    litellm = _litellm()
    kwargs = _call_kwargs(model, messages, params, timeout)
    kwargs["stream"] = True
    kwargs.setdefault("stream_options", {"include_usage": True})
    price = price_for(model)
    reader = _StreamReader(model, messages, price)
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


class _BackgroundLoop:
    """One event loop in a daemon thread for synchronous callers. A fresh loop per call
    (asyncio.run) would strand the async HTTP clients litellm caches on the loop they were
    made in."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="llmbench-gateway", daemon=True
                ).start()
                atexit.register(self._close)
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result()

    def finish_background_work(self) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=15)

    def _close(self) -> None:
        """At exit: finish litellm's callbacks on this loop, cancel what is left (as
        asyncio.run does), then stop it."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        with contextlib.suppress(Exception):
            self.finish_background_work()
            asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)


async def _cancel_other_tasks() -> None:
    # Whatever litellm still runs here (callback tasks) is cancelled, as asyncio.run() does,
    # rather than destroyed pending at interpreter exit.
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


_background = _BackgroundLoop()


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
