"""A loopback server speaking Gemini's generateContent API (Google AI Studio, v1beta), for
litellm's `gemini/<model>` route with `api_base` at http://127.0.0.1:<port>/v1beta.

litellm posts `models/<model>:generateContent`, or `models/<model>:streamGenerateContent?alt=sse`
for a stream, with the key in the `x-goog-api-key` header; a stream is Gemini's server-sent
events, one GenerateContentResponse per `data:` line. Replies are the reference bodies of
tests/data/wire/gemini/ (see its README for their sources).

Context caching (https://ai.google.dev/api/caching) keeps state, so the server answers it
itself: `POST /v1beta/cachedContents` creates a CachedContent (a `cachedContents/<id>` name, the
request's displayName and model, an expireTime its `ttl` or the default hour away, the token
count of the reference body `cached_content.json`), and `GET /v1beta/cachedContents` lists the
live ones, which is how litellm finds the one it made before (by displayName). A
generateContent naming a `cachedContent` that does not exist, or sending beside it what only
the cache may hold (a system instruction, tools, a tool config), is refused with a 500 naming
the fault, so a test that sends one fails; otherwise it takes the next scripted reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.wire_server import Reply, WireRequest, WireServer, reference

PROVIDER = "gemini"
CACHES = "/v1beta/cachedContents"
DEFAULT_TTL_S = 3600.0  # "If not set, the TTL defaults to 1 hour" (ai.google.dev caching docs)
# What generateContent may not send beside a cachedContent: the cache holds them.
_CACHE_ONLY = ("system_instruction", "systemInstruction", "tools", "toolConfig")
_TTL = re.compile(r"^(\d+(?:\.\d+)?)s$")  # a Duration in JSON: seconds with an "s"


def _frame(event: dict[str, Any]) -> bytes:
    # Gemini ends each event with CRLF CRLF (alt=sse), as its streaming reference shows.
    return f"data: {json.dumps(event, ensure_ascii=False)}\r\n\r\n".encode()


def _timestamp(moment: datetime) -> str:
    """RFC 3339 with nanoseconds and a Z, as Google writes Timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


class GeminiServer(WireServer):
    def __init__(self) -> None:
        self.caches: dict[str, dict[str, Any]] = {}  # name → the CachedContent as listed
        self.cache_bodies: dict[str, dict[str, Any]] = {}  # name → the create request's body
        super().__init__(
            ["/v1beta/models/{action}"],
            _frame,
            handlers=[("POST", CACHES, self._create_cache), ("GET", CACHES, self._list_caches)],
        )

    @property
    def api_base(self) -> str:
        return f"{self.origin}/v1beta"

    def requests_to(self, method: str, path: str) -> list[WireRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def _create_cache(self, request: WireRequest) -> Reply:
        now = datetime.now(UTC)
        match = _TTL.match(str(request.body.get("ttl", "")))
        ttl = float(match.group(1)) if match else DEFAULT_TTL_S
        example = reference(PROVIDER, "cached_content.json")
        name = f"{example['name']}{len(self.caches) + 1}"  # a new id for every cache made
        created = {
            **example,
            "name": name,
            "model": request.body.get("model"),
            "displayName": request.body.get("displayName", ""),
            "createTime": _timestamp(now),
            "updateTime": _timestamp(now),
            "expireTime": _timestamp(now + timedelta(seconds=ttl)),
        }
        self.caches[name] = created
        self.cache_bodies[name] = request.body
        return Reply(body=created)

    def _list_caches(self, _request: WireRequest) -> Reply:
        now = _timestamp(datetime.now(UTC))
        live = [cache for cache in self.caches.values() if cache["expireTime"] > now]
        return Reply(body={"cachedContents": live} if live else {})

    def refusal(self, request: WireRequest) -> Reply | None:
        name = request.body.get("cachedContent")
        if name is None:
            return None
        cache = self.caches.get(name)
        if cache is None or cache["expireTime"] <= _timestamp(datetime.now(UTC)):
            fault = f"no live cached content named {name!r}"
        elif beside := [key for key in _CACHE_ONLY if key in request.body]:
            fault = f"{', '.join(beside)} sent beside cachedContent {name!r}"
        else:
            return None
        return Reply(status=500, body={"error": {"message": f"test server: {fault}"}})


def body(name: str, status: int = 200) -> Reply:
    """A whole answer (or an error) from a reference body."""
    return Reply(status=status, body=reference(PROVIDER, name))


def stream(name: str) -> Reply:
    """A streamed answer from a reference list of chunks."""
    return Reply(events=tuple(reference(PROVIDER, name)))


def running_gemini_server() -> Iterator[GeminiServer]:
    server = GeminiServer().start()
    try:
        yield server
    finally:
        server.stop()
