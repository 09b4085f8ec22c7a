"""`openai/...` models called directly rather than through litellm.

For OpenAI and every OpenAI-compatible server (vLLM, llama.cpp, LM Studio, a proxy) litellm
only wraps the OpenAI SDK, at a price: importing it takes seconds and its request path costs
about 3 ms of CPU per call (see README, Performance), which caps a gateway on two cores at
about 2× the ideal wall time for many concurrent calls.

A whole answer is one JSON POST, made with aiohttp (0.2 ms of CPU per call, 0.2 s to
import): the SDK would add 0.45 s of import and 0.5 ms per call for nothing the gateway uses.
A failed status raises ProviderError with the status code and the response's headers, which
gateway.errors classifies (429 rate limited, 401/403 auth, other 4xx bad request, 5xx server)
and reads Retry-After from; aiohttp's own exceptions are classified by name (timeouts,
dropped connections), and an answer that is not a chat completion raises MalformedAnswer (a
protocol failure: never retried, as asking again gets the same answer). Streams use the OpenAI
SDK itself, for its server-sent-events parsing.
`[gateway] openai_transport = "litellm"` sends these models through litellm like every other
provider.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from llmbench.core.models import ToolCall
from llmbench.gateway.tool_calls import tool_calls_of
from llmbench.gateway.usage_details import token_details

PREFIX = "openai/"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Parameters litellm takes for OpenAI that choose the server or key rather than the answer.
_CLIENT_PARAMS = frozenset({"api_base", "base_url", "api_key", "organization"})
_DROPPED_PARAMS = frozenset({"num_retries", "max_retries", "custom_llm_provider"})
MAX_ERROR_CHARS = 2000

_sessions: dict[int, Any] = {}  # one aiohttp session (connection pool) per event loop
_sdk_clients: dict[tuple[str, str, int], Any] = {}


class MalformedAnswer(Exception):
    """The server answered with a success status, but not with a chat completion."""


class ProviderError(Exception):
    """The server answered with a failure status. `response.headers` is kept for Retry-After."""

    def __init__(self, status_code: int, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"Error code: {status_code} - {message}")
        self.status_code = status_code
        self.response = SimpleNamespace(headers=headers)


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str
    organization: str | None

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        return headers


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None
    audio_prompt_tokens: int | None = None
    audio_completion_tokens: int | None = None
    image_prompt_tokens: int | None = None


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str | None
    model: str | None
    usage: Usage | None
    tool_calls: tuple[ToolCall, ...] = ()


def handles(model: str) -> bool:
    return model.startswith(PREFIX) and len(model) > len(PREFIX)


def request(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    api_key: str | None,
) -> tuple[Endpoint, dict[str, Any]]:
    """Where to send one call and its JSON body: the params as given (as litellm sends them),
    bar those that choose the server and key."""
    base_url = (
        params.get("api_base")
        or params.get("base_url")
        or os.environ.get("OPENAI_BASE_URL")
        or os.environ.get("OPENAI_API_BASE")
        or DEFAULT_BASE_URL
    )
    # Local servers ignore the key; a hosted one answers 401, which names the problem.
    key = params.get("api_key") or api_key or os.environ.get("OPENAI_API_KEY") or "no-key-set"
    endpoint = Endpoint(str(base_url).rstrip("/"), str(key), params.get("organization"))
    body: dict[str, Any] = {
        name: value
        for name, value in params.items()
        if name not in _CLIENT_PARAMS and name not in _DROPPED_PARAMS and name != "extra_body"
    }
    body.update(params.get("extra_body") or {})
    body["model"] = model.removeprefix(PREFIX)
    body["messages"] = [dict(message) for message in messages]
    return endpoint, body


def _session() -> Any:
    import aiohttp

    loop = id(asyncio.get_running_loop())
    session = _sessions.get(loop)
    if session is None or session.closed:
        # No cap on connections: the gateway's own per-model limits decide what is in flight.
        # trust_env would re-read ~/.netrc and the proxy variables on every request (a third
        # of the call's CPU): the proxy is looked up once per server instead (_proxy_for).
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        _sessions[loop] = session
    return session


async def create(endpoint: Endpoint, body: Mapping[str, Any], timeout: float) -> Answer:
    import aiohttp

    try:
        async with _session().post(
            f"{endpoint.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers=endpoint.headers(),
            timeout=aiohttp.ClientTimeout(total=timeout),
            proxy=_proxy_for(endpoint.base_url),
        ) as response:
            raw = await response.read()
            if response.status >= 400:
                raise ProviderError(response.status, _error_message(raw), response.headers)
    except TimeoutError:
        # aiohttp's timeout says nothing; the audit row should say what happened.
        raise TimeoutError(f"no answer from {endpoint.base_url} within {timeout:g} s") from None
    return _answer(raw, endpoint.base_url)


def _answer(raw: bytes, base_url: str) -> Answer:
    """The chat completion in a success response's body; MalformedAnswer for anything else."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, absurdly nested
        raise MalformedAnswer(
            f"not JSON: {error}; {len(raw):,} bytes from {base_url}/chat/completions"
        ) from None
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        if not isinstance(text, str):
            raise TypeError(f"content is {type(text).__name__}, not text")
        return Answer(
            text=text,
            finish_reason=choice.get("finish_reason"),
            model=data.get("model"),
            usage=_usage(data.get("usage")),
            tool_calls=tool_calls_of(message),
        )
    except (LookupError, TypeError, AttributeError, ValueError) as error:
        raise MalformedAnswer(
            f"JSON without a chat completion's choices ({type(error).__name__}: {error}) "
            f"from {base_url}/chat/completions"
        ) from None


@functools.cache
def _proxy_for(base_url: str) -> str | None:
    """The proxy the environment names for this server (HTTPS_PROXY, NO_PROXY, ...)."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _error_message(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:MAX_ERROR_CHARS]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"][:MAX_ERROR_CHARS]
    return text[:MAX_ERROR_CHARS]


def _sdk_client(endpoint: Endpoint) -> Any:
    """One SDK client per server, key and event loop, for streams."""
    import openai

    key = (endpoint.base_url, endpoint.api_key, id(asyncio.get_running_loop()))
    client = _sdk_clients.get(key)
    if client is None:
        if len(_sdk_clients) > 64:  # base URLs and keys come from config: a handful
            _sdk_clients.clear()
        # The gateway owns retries: the SDK's own (2 by default) would hide attempts.
        client = openai.AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            organization=endpoint.organization,
            max_retries=0,
        )
        _sdk_clients[key] = client
    return client


async def chunks(endpoint: Endpoint, body: Mapping[str, Any], timeout: float) -> AsyncIterator[Any]:
    """The stream's chunks; closed on every way out, so the connection is released."""
    stream = await _sdk_client(endpoint).chat.completions.create(
        **body, stream=True, timeout=timeout
    )
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await stream.close()


async def close_clients() -> None:
    """Close this event loop's sessions and clients, before the loop closes."""
    loop = id(asyncio.get_running_loop())
    session = _sessions.pop(loop, None)
    if session is not None:
        await session.close()
    for key in [key for key in _sdk_clients if key[2] == loop]:
        await _sdk_clients.pop(key).close()


def _usage(usage: object) -> Usage | None:
    if not isinstance(usage, Mapping):
        return None
    details = token_details(usage)
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=details.cached_tokens or 0,
        reasoning_tokens=details.reasoning_tokens,
        cache_write_tokens=details.cache_write_tokens,
        audio_prompt_tokens=details.audio_prompt_tokens,
        audio_completion_tokens=details.audio_completion_tokens,
        image_prompt_tokens=details.image_prompt_tokens,
    )
