"""Classifying provider failures and reading their Retry-After, without importing litellm."""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "rate_limited", "timeout", "auth", "bad_request", "server", "connection", "content_filter",
    "not_recorded",  # the call ended but its audit rows were refused (outcomes.CallNotRecorded)
    "protocol",  # the server answered, but not in its API's format (malformed JSON, no choices)
]  # fmt: skip
RETRYABLE: frozenset[ErrorKind] = frozenset({"rate_limited", "timeout", "server", "connection"})

_BY_CLASS: dict[str, ErrorKind] = {
    "RateLimitError": "rate_limited",
    "Timeout": "timeout",
    "APITimeoutError": "timeout",
    "TimeoutError": "timeout",
    "AuthenticationError": "auth",
    "PermissionDeniedError": "auth",
    "BadRequestError": "bad_request",
    "NotFoundError": "bad_request",
    "UnprocessableEntityError": "bad_request",
    "ContextWindowExceededError": "bad_request",
    "UnsupportedParamsError": "bad_request",
    "ContentPolicyViolationError": "content_filter",
    "APIConnectionError": "connection",
    "ServiceUnavailableError": "server",
    "InternalServerError": "server",
    "BadGatewayError": "server",
    "APIError": "server",
    # aiohttp's, for the direct openai/... path (gateway.openai_direct).
    "MalformedAnswer": "protocol",
    "JSONDecodeError": "protocol",
    "ServerTimeoutError": "timeout",
    "ClientConnectionError": "connection",
    "ClientPayloadError": "connection",
}


@dataclass(frozen=True)
class Failure:
    kind: ErrorKind
    message: str
    status_code: int | None
    retry_after_s: float | None

    @property
    def call_status(self) -> str:
        return {"rate_limited": "rate_limited", "timeout": "timeout"}.get(self.kind, "error")

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


# Gemini tells how long to wait in its error body, not in a Retry-After header: a
# google.rpc.RetryInfo detail, `"retryDelay": "22s"` (a protobuf Duration), which litellm keeps
# in the exception's text (https://ai.google.dev/gemini-api/docs/rate-limits).
_RETRY_DELAY = re.compile(r'"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"')


def _retry_delay_in_body(error: BaseException) -> float | None:
    match = _RETRY_DELAY.search(str(error))
    return float(match.group(1)) if match else None


def _retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or getattr(error, "litellm_response_headers", None)
    value = (headers.get("retry-after") or headers.get("Retry-After")) if headers else None
    if value is None:
        return _retry_delay_in_body(error)
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


# Connection failures an HTTP transport may report as a timeout: the OpenAI SDK's aiohttp
# transport maps every aiohttp.ClientConnectionError to httpx.ConnectTimeout, keeping the
# original as the cause.
_CONNECTION_CAUSES = frozenset(
    {
        "ServerDisconnectedError",
        "ClientConnectorError",
        "ClientOSError",
        "ClientPayloadError",
        "ClientConnectionResetError",
        "RemoteProtocolError",
        "ConnectionResetError",
        "ConnectionRefusedError",
    }
)


def _caused_by_lost_connection(error: BaseException) -> bool:
    seen = 0
    cause = error.__cause__
    while cause is not None and seen < 10:
        if type(cause).__name__ in _CONNECTION_CAUSES:
            return True
        cause, seen = cause.__cause__, seen + 1
    return False


# litellm reports both as a 500 (InternalServerError, APIError): an answer it could not parse
# (the text of json's JSONDecodeError) and a provider SDK refusing to start without a key.
_MALFORMED_JSON = re.compile(
    r"(Expecting (value|property name|',' delimiter|':' delimiter)|Unterminated string"
    r"|Extra data|Invalid control character|Invalid \\?(escape|uXXXX)).*"
    r": line \d+ column \d+ \(char \d+\)"
)
_MISSING_CREDENTIALS = re.compile(
    r"missing credentials|api_key client option must be set|no api key", re.IGNORECASE
)


def _key_hint(error: BaseException) -> str:
    """How to give the provider of a failed call its key, when litellm names the provider."""
    from llmbench.gateway.keys import PROVIDERS

    provider = str(getattr(error, "llm_provider", "") or "")
    for spec in PROVIDERS.values():
        if provider in spec.litellm_providers:
            return f"`llmbench keys set {spec.provider}` or set {spec.env_var}"
    return "`llmbench keys set PROVIDER` or set the provider's API key variable"


def _protocol_message(message: str) -> str:
    return (
        f"the server's answer is not in the API's format ({message}); check that the model's "
        "api_base points at the provider's API, not a web page or a proxy's error page"
    )


def classify(error: BaseException) -> Failure:
    kind: ErrorKind | None = None
    for cls in type(error).__mro__:
        kind = _BY_CLASS.get(cls.__name__)
        if kind:
            break
    message = str(error)
    # litellm reports Anthropic's 529 (overloaded) as a 500 and keeps the provider's own status
    # beside it.
    status = getattr(error, "provider_status_code", None)
    if not isinstance(status, int):
        status = getattr(error, "status_code", None)
    if kind in ("server", None) and _MISSING_CREDENTIALS.search(message):
        kind, status = "auth", None
        message = f"no API key for this provider: {_key_hint(error)} ({message})"
    elif kind == "protocol" or (kind == "server" and _MALFORMED_JSON.search(message)):
        # Retrying would get the same unreadable answer; the fix is on the user's side.
        kind, status = "protocol", None
        message = _protocol_message(message)
    if kind == "server" and "connection error" in message.lower():
        kind = "connection"  # a dropped connection surfaces as a 500 with this text
    if kind == "timeout" and _caused_by_lost_connection(error):
        kind = "connection"
    if kind is None:
        if isinstance(status, int) and status == 429:
            kind = "rate_limited"
        elif isinstance(status, int) and status in (401, 403):
            kind = "auth"
        elif isinstance(status, int) and 400 <= status < 500:
            kind = "bad_request"
        else:
            kind = "server"
    return Failure(kind, message, status if isinstance(status, int) else None, _retry_after(error))
