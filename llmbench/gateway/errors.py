"""Classifying provider failures and reading their Retry-After, without importing litellm."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "rate_limited", "timeout", "auth", "bad_request", "server", "connection", "content_filter"
]
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


def _retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or getattr(error, "litellm_response_headers", None)
    if not headers:
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
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


def classify(error: BaseException) -> Failure:
    kind: ErrorKind | None = None
    for cls in type(error).__mro__:
        kind = _BY_CLASS.get(cls.__name__)
        if kind:
            break
    message = str(error)
    status = getattr(error, "status_code", None)
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
