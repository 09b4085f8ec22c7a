"""`openai/...` models called with the OpenAI SDK itself rather than through litellm.

For OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, a proxy) litellm
only wraps the same SDK, at a price: importing it takes seconds and its request path costs
about 3 ms of CPU per call (see README, Performance), which caps a gateway on two cores at
about 2× the ideal wall time for many concurrent calls. The SDK alone imports in 0.4 s and
costs about 1.5 ms. The wire protocol is the same, the SDK's exceptions have the names
gateway.errors classifies (RateLimitError, APITimeoutError, InternalServerError, ...), and
they carry the response, so Retry-After is read as before. `[gateway] openai_transport =
"litellm"` sends these models through litellm like every other provider.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PREFIX = "openai/"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Parameters litellm takes for OpenAI that the SDK spells differently or takes elsewhere.
_CLIENT_PARAMS = frozenset({"api_base", "base_url", "api_key", "organization"})
_DROPPED_PARAMS = frozenset({"num_retries", "max_retries", "custom_llm_provider"})

_clients: dict[tuple[str, str, int], Any] = {}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str | None
    model: str | None
    usage: Usage | None


def handles(model: str) -> bool:
    return model.startswith(PREFIX) and len(model) > len(PREFIX)


def _client(base_url: str, api_key: str, organization: str | None) -> Any:
    """One SDK client (and connection pool) per server, key and event loop."""
    import asyncio

    import openai

    key = (base_url, api_key, id(asyncio.get_running_loop()))
    client = _clients.get(key)
    if client is None:
        if len(_clients) > 64:  # base URLs and keys come from config: a handful
            _clients.clear()
        # The gateway owns retries: the SDK's own (2 by default) would hide attempts.
        client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            organization=organization,
            max_retries=0,
            **_aiohttp_transport(openai),
        )
        _clients[key] = client
    return client


def _aiohttp_transport(openai: Any) -> dict[str, Any]:
    """The SDK over aiohttp (its own DefaultAioHttpClient): about 0.5 ms less CPU per call
    than over httpx's transport. SDK versions without it use httpx."""
    try:
        return {"http_client": openai.DefaultAioHttpClient()}
    except (AttributeError, ImportError, RuntimeError):
        return {}


async def close_clients() -> None:
    """Close this event loop's clients (their connection pools), before the loop closes."""
    import asyncio

    loop = id(asyncio.get_running_loop())
    for key in [key for key in _clients if key[2] == loop]:
        await _clients.pop(key).close()


def request(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    api_key: str | None,
) -> tuple[Any, dict[str, Any]]:
    """The SDK client and the JSON body of one call: the params as given (as litellm sends
    them), bar those that choose the server and key."""
    base_url = (
        params.get("api_base")
        or params.get("base_url")
        or os.environ.get("OPENAI_BASE_URL")
        or os.environ.get("OPENAI_API_BASE")
        or DEFAULT_BASE_URL
    )
    key = params.get("api_key") or api_key or os.environ.get("OPENAI_API_KEY") or ""
    if not key:
        # The SDK refuses to start without one; local servers ignore it, hosted ones say why.
        key = "no-key-set"
    client = _client(str(base_url), str(key), params.get("organization"))
    body: dict[str, Any] = {
        name: value
        for name, value in params.items()
        if name not in _CLIENT_PARAMS and name not in _DROPPED_PARAMS and name != "extra_body"
    }
    body.update(params.get("extra_body") or {})
    body["model"] = model.removeprefix(PREFIX)
    body["messages"] = [dict(message) for message in messages]
    return client, body


async def create(client: Any, body: Mapping[str, Any], timeout: float) -> Answer:
    """POST the body as it is and read the JSON answer. The SDK's typed create() would
    re-validate every message and answer with pydantic, a third of its CPU per call; its
    errors (status codes, timeouts, connections) are raised all the same."""
    import httpx

    response = await client.post(
        "/chat/completions", cast_to=httpx.Response, body=body, options={"timeout": timeout}
    )
    data = json.loads(response.content)
    choice = data["choices"][0]
    message = choice.get("message") or {}
    return Answer(
        text=message.get("content") or "",
        finish_reason=choice.get("finish_reason"),
        model=data.get("model"),
        usage=_usage(data.get("usage")),
    )


async def chunks(client: Any, body: Mapping[str, Any], timeout: float) -> AsyncIterator[Any]:
    """The stream's chunks; closed on every way out, so the connection is released."""
    stream = await client.chat.completions.create(**body, stream=True, timeout=timeout)
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await stream.close()


def _usage(usage: object) -> Usage | None:
    if not isinstance(usage, Mapping):
        return None
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(cached or 0),
    )
