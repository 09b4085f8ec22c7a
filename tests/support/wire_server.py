"""A scripted HTTP server on 127.0.0.1 for provider wire formats other than OpenAI's chat
completions (Gemini's generateContent, OpenAI's Responses API).

Each request is answered with the next scripted Reply, in order: a JSON body with its status,
or a stream of server-sent events. The replies are the providers' published reference bodies
(tests/data/wire/<provider>/, sources named in the README there), served as they are, so
litellm reads exactly what the provider would send. Every request is recorded (path, query,
headers, JSON body) so a test can check what the gateway sent. A request that finds no reply
scripted gets a 500 naming the path, which fails the test that forgot one.

A server may also answer some routes itself (`handlers`: a provider's resources that keep state,
such as Gemini's cachedContents), and refuse a request before it takes a scripted reply
(`refusal`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

WIRE_DATA = Path(__file__).resolve().parent.parent / "data" / "wire"

# One server-sent event's bytes from its JSON payload: providers frame them differently.
EventFrame = Callable[[dict[str, Any]], bytes]


def reference(provider: str, name: str) -> Any:
    """A reference body (or, for a stream, the list of its events) from tests/data/wire."""
    return json.loads((WIRE_DATA / provider / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # the JSON body of a whole answer or an error
    events: tuple[dict[str, Any], ...] = ()  # a stream's events, in order
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WireRequest:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    method: str = "POST"


# Answers one request of a route the server handles itself (called under the server's lock).
Handler = Callable[[WireRequest], Reply]


class WireServer:
    """Serves `routes` (aiohttp path patterns, POST) with the scripted replies, and each
    (method, route, handler) of `handlers` with its handler's reply."""

    def __init__(
        self,
        routes: Sequence[str],
        frame: EventFrame,
        handlers: Sequence[tuple[str, str, Handler]] = (),
    ) -> None:
        self.routes = tuple(routes)
        self.handlers = tuple(handlers)
        self.frame = frame
        self.host = "127.0.0.1"
        self.port = 0
        self.requests: list[WireRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answer(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def unanswered(self) -> int:
        """Scripted replies no request has taken yet."""
        with self._lock:
            return len(self._replies)

    def refusal(self, request: WireRequest) -> Reply | None:
        """A reply refusing `request` before it takes a scripted one (called under the
        server's lock); None lets it through. A provider's server overrides it."""
        return None

    async def _record(self, request: web.Request) -> WireRequest:
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        return WireRequest(
            request.path, dict(request.query), dict(request.headers), body, request.method
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        wire = await self._record(request)
        with self._lock:
            self.requests.append(wire)
            reply = self.refusal(wire)
            if reply is None and self._replies:
                reply = self._replies.popleft()
        if reply is None:
            message = f"no reply scripted for {request.path}"
            return web.json_response({"error": {"message": message}}, status=500)
        return await self._respond(request, reply)

    def _handled_by(self, handler: Handler) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            wire = await self._record(request)
            with self._lock:
                self.requests.append(wire)
                reply = handler(wire)
            return await self._respond(request, reply)

        return handle

    async def _respond(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if not reply.events:
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        response = web.StreamResponse(
            status=reply.status, headers={"Content-Type": "text/event-stream", **reply.headers}
        )
        await response.prepare(request)
        for event in reply.events:
            await response.write(self.frame(event))
        await response.write_eof()
        return response

    def start(self) -> WireServer:
        app = web.Application()
        for route in self.routes:
            app.router.add_post(route, self._handle)
        for method, route, handler in self.handlers:
            app.router.add_route(method, route, self._handled_by(handler))
        self._loop, self._thread, self.port = serve_in_thread(app, self.host, "wire-test-server")
        return self

    def stop(self) -> None:
        stop_serving(self._loop, self._thread)


def serve_in_thread(
    app: web.Application, host: str, name: str
) -> tuple[asyncio.AbstractEventLoop, threading.Thread, int]:
    """`app` served on a free port of `host` by an event loop in a thread of its own, until
    `stop_serving`: its loop, thread and port."""
    ready = threading.Event()
    started: list[tuple[asyncio.AbstractEventLoop, int]] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, host, 0)
        loop.run_until_complete(site.start())
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        started.append((loop, sockets[0].getsockname()[1]))
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the loopback server did not start within 10 s")
    loop, port = started[0]
    return loop, thread, port


def stop_serving(loop: asyncio.AbstractEventLoop | None, thread: threading.Thread | None) -> None:
    if loop is not None:
        loop.call_soon_threadsafe(loop.stop)
    if thread is not None:
        thread.join(10)
