"""A real HTTP server on 127.0.0.1 speaking Anthropic's Messages API (`POST /v1/messages`), for
tests that drive litellm's `anthropic/...` path with `api_base` pointing here.

Its answers are the published reference examples kept in tests/data/wire/anthropic/ (their
sources are named in the README there): whole messages as JSON, streams as the SSE events the
reference shows, errors with the reference's JSON shapes. A scenario picks which example
answers, what usage it reports and which failures come first; it is chosen by the path of the
api_base that `scenario()` returns, so the model name stays a real, priced Claude name.

Every request's body is kept (`requests`, `requests_for`), so a test can assert what litellm
sent: tool_result blocks, image blocks, `cache_control` markers.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.wire_server import serve_in_thread, stop_serving

WIRE = Path(__file__).resolve().parents[1] / "data" / "wire" / "anthropic"
# The statuses whose reference error bodies are kept (error_<status>.json).
ERROR_STATUSES = (429, 529)


def reference(name: str) -> Any:
    """A reference JSON body (`message_text`, `error_429`, `usage_prompt_caching`, ...)."""
    return json.loads((WIRE / f"{name}.json").read_text(encoding="utf-8"))


def reference_events(name: str) -> list[tuple[str, dict[str, Any]]]:
    """A reference SSE stream (`stream_text`, ...) as its (event name, data) pairs."""
    events = []
    for block in (WIRE / f"{name}.sse").read_text(encoding="utf-8").strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@dataclass
class AnthropicScenario:
    """How the server answers the requests of one api_base.

    `replies`: the reference messages answered in turn (`message_text`, `message_tool_use`, ...;
    the last one answers every later request). A streamed request gets the reference stream of
    the same example (`stream_<x>` for `message_<x>`); an example the reference shows only
    whole is answered to a stream with a 500 api_error saying so. `usage` replaces the
    reference's usage (a list: one per reply, in turn). `errors`: the statuses of the first
    requests (429 or 529), each answered with its reference body and, when `retry_after` is
    set, a `retry-after` header."""

    replies: tuple[str, ...] = ("message_text",)
    usage: tuple[dict[str, int] | None, ...] = ()
    errors: tuple[int, ...] = ()
    retry_after: float | None = None
    # The first `stream_errors` streamed answers break off after message_start with the
    # reference's `error` event (overloaded_error), as a stream may under load.
    stream_errors: int = 0
    streams: int = 0
    seen: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    scenario: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class AnthropicServer:
    host: str = "127.0.0.1"
    scenarios: dict[str, AnthropicScenario] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def scenario(self, name: str, **kwargs: Any) -> str:
        """Register a scenario; returns the api_base that selects it."""
        for status in kwargs.get("errors", ()):
            if status not in ERROR_STATUSES:
                raise ValueError(f"no reference error body for HTTP {status}")
        for reply in kwargs.get("replies", ()):
            if not (WIRE / f"{reply}.json").exists():
                raise ValueError(f"no reference body {reply}.json in {WIRE}")
        with self._lock:
            self.scenarios[name] = AnthropicScenario(**kwargs)
        return f"{self.base_url}/s/{name}"

    def requests_for(self, name: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.scenario == name]

    # -- answering -------------------------------------------------------------------------
    async def _messages(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(400, "invalid_request_error", "invalid JSON body")
        with self._lock:
            scenario = self.scenarios.get(name)
            self.requests.append(
                RecordedRequest(name, request.path, dict(request.headers), body, time.monotonic())
            )
            if scenario is None:
                return _error(404, "not_found_error", f"no scenario {name!r}")
            scenario.seen += 1
            turn = scenario.seen
        if turn <= len(scenario.errors):
            status = scenario.errors[turn - 1]
            headers = {"request-id": f"req_{name}_{turn}"}
            if scenario.retry_after is not None:
                headers["retry-after"] = f"{scenario.retry_after:g}"
            return web.json_response(reference(f"error_{status}"), status=status, headers=headers)
        answer = turn - len(scenario.errors) - 1
        reply = scenario.replies[min(answer, len(scenario.replies) - 1)]
        usage = scenario.usage[min(answer, len(scenario.usage) - 1)] if scenario.usage else None
        message = reference(reply)
        message["model"] = body.get("model", message.get("model"))
        if body.get("stream"):
            if not (WIRE / f"stream_{reply.removeprefix('message_')}.sse").exists():
                return _error(500, "api_error", f"the reference shows no stream of {reply}")
            with self._lock:
                scenario.streams += 1
                broken = scenario.streams <= scenario.stream_errors
            return await self._stream(request, reply, message, usage, body, broken)
        message["usage"] = usage or message.get("usage") or _counted_usage(body, message)
        return web.json_response(message)

    async def _stream(
        self,
        request: web.Request,
        reply: str,
        message: dict[str, Any],
        usage: dict[str, int] | None,
        body: dict[str, Any],
        broken: bool,
    ) -> web.StreamResponse:
        """The reference stream of the example, with the scenario's usage when it sets one,
        else the stream's own (or, for a stream that shows none, the message's or a count)."""
        events = reference_events(f"stream_{reply.removeprefix('message_')}")
        own = "usage" in events[0][1]["message"]  # the reference stream shows its usage
        if usage is None and not own:
            usage = message.get("usage") or _counted_usage(body, message)
        if broken:
            events = events[:1] + reference_events("stream_error")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for name, data in events:
            _set_stream_fields(name, data, message["model"], usage)
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await response.write_eof()
        return response

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> AnthropicServer:
        app = web.Application()
        # litellm posts to <api_base>/v1/messages.
        app.router.add_post("/s/{name}/v1/messages", self._messages)
        self._loop, self._thread, self.port = serve_in_thread(
            app, self.host, "anthropic-test-server"
        )
        return self

    def stop(self) -> None:
        stop_serving(self._loop, self._thread)


def _error(status: int, kind: str, message: str) -> web.Response:
    """An error in the reference's shape (https://docs.anthropic.com/en/api/errors)."""
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}}, status=status
    )


def _counted_usage(body: dict[str, Any], message: dict[str, Any]) -> dict[str, int]:
    """Usage for a reference message that shows none: words sent and answered, so a test can
    still tell the provider's counts from the gateway's offline estimate."""
    sent = json.dumps(body.get("messages") or [])
    answered = json.dumps(message.get("content") or [])
    return {"input_tokens": len(sent.split()), "output_tokens": len(answered.split())}


def _set_stream_fields(
    name: str, data: dict[str, Any], model: str, usage: Mapping[str, int] | None
) -> None:
    """The model asked for and, when given, the usage in a stream: message_start carries the
    input side (and the placeholder output count the reference shows), message_delta the final
    output count. Without one, the reference stream keeps its own."""
    if name == "message_start":
        data["message"]["model"] = model
    if usage is None:
        return
    if name == "message_start":
        start = (data["message"].get("usage") or {}).get("output_tokens", 1)
        data["message"]["usage"] = {**usage, "output_tokens": start}
    elif name == "message_delta":
        data["usage"] = {"output_tokens": usage["output_tokens"]}


def running_anthropic_server() -> Iterator[AnthropicServer]:
    server = AnthropicServer().start()
    try:
        yield server
    finally:
        server.stop()
