"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It speaks `/v1/chat/completions` (plain and SSE streaming) over a real socket, so litellm reaches
it through its normal HTTP path. Behaviour is chosen per request by the model name: a model
named `scenario/<name>` follows the Scenario registered under <name>; any other model answers
normally. Every request is recorded so tests can count attempts and inspect what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

EMBEDDING_SIZE = 64

Fault = Literal["none", "status", "hang", "malformed", "drop", "drop_stream", "echo_auth"]


@dataclass
class Scenario:
    """How the server answers one model. Faults apply to the first `fault_times` requests."""

    fault: Fault = "none"
    fault_times: int = 1_000_000
    status: int = 500
    retry_after: float | None = None
    latency_ms: float = 0.0
    reply: str | None = None
    # The n-th request answers replies[n - 1] while there are some, then `reply`.
    replies: tuple[str, ...] = ()
    cached_tokens: int = 0
    # Reasoning tokens, counted in completion_tokens and told apart in
    # `completion_tokens_details.reasoning_tokens` as OpenAI's reference shows them; cache
    # writes as `cache_creation_input_tokens` (what litellm's proxy and Anthropic send).
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0
    # The model the answer names (default: the one requested), as a server answers with the
    # dated name of an alias: the gateway prices a call by it when the table lists it.
    answer_model: str | None = None
    stream_usage: bool = True
    # Tools the answer calls, each {"id", "name", "arguments"}: the message then carries them as
    # OpenAI's reference shows (`tool_calls[]` of type "function", content null unless `reply`
    # is set, finish_reason "tool_calls"); streamed, each call's first delta brings its id and
    # name, the next ones its arguments in pieces.
    tool_calls: tuple[dict[str, str], ...] = ()
    seen: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class OpenAICompatibleServer:
    host: str = "127.0.0.1"
    default_latency_ms: float = 0.0
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def scenario(self, name: str, **kwargs: Any) -> str:
        """Register a scenario and return the model name that selects it."""
        self.scenarios[name] = Scenario(**kwargs)
        return f"scenario/{name}"

    def requests_for(self, model: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.body.get("model") == model]

    # -- answering -------------------------------------------------------------------------
    @staticmethod
    def _reply_text(body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        last = str(messages[-1].get("content", "")) if messages else ""
        return f"Answer to: {last[:200]}"

    @staticmethod
    def _tokens(text: str) -> int:
        return max(1, len(text.split()))

    def _usage(
        self, body: dict[str, Any], reply: str, cached: int, scenario: Scenario | None = None
    ) -> dict[str, Any]:
        prompt_text = " ".join(str(m.get("content", "")) for m in body.get("messages") or [])
        prompt_tokens = self._tokens(prompt_text) + 3 * len(body.get("messages") or [])
        reasoning = scenario.reasoning_tokens if scenario else 0
        written = scenario.cache_write_tokens if scenario else 0
        prompt_tokens += written
        completion_tokens = self._tokens(reply) + reasoning
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if cached:
            usage["prompt_tokens_details"] = {"cached_tokens": min(cached, prompt_tokens)}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        if written:
            usage["cache_creation_input_tokens"] = written
        return usage

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": {"message": "invalid JSON body"}}, status=400)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.path, dict(request.headers), body, time.monotonic())
            )
        model = str(body.get("model", ""))
        scenario = (
            self.scenarios.get(model.removeprefix("scenario/"))
            if model.startswith("scenario/")
            else None
        )
        faulty = False
        scripted = None
        if scenario is not None:
            with self._lock:
                scenario.seen += 1
                faulty = scenario.fault != "none" and scenario.seen <= scenario.fault_times
                if scenario.seen <= len(scenario.replies):
                    scripted = scenario.replies[scenario.seen - 1]
        latency = scenario.latency_ms if scenario else self.default_latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)
        if faulty and scenario is not None:
            answer = await self._fault(request, scenario, body)
            if answer is not None:
                return answer
        tool_calls = scenario.tool_calls if scenario else ()
        reply = (
            scripted
            or (scenario.reply if scenario and scenario.reply else None)
            or ("" if tool_calls else self._reply_text(body))
        )
        cached = scenario.cached_tokens if scenario else 0
        if body.get("stream"):
            include_usage = (scenario.stream_usage if scenario else True) and bool(
                (body.get("stream_options") or {}).get("include_usage")
            )
            drop = faulty and scenario is not None and scenario.fault == "drop_stream"
            return await self._stream(
                request, body, reply, cached, include_usage, drop, tool_calls, scenario
            )
        message: dict[str, Any] = {"role": "assistant", "content": reply}
        if tool_calls:
            message["content"] = reply or None
            message["tool_calls"] = [_wire_call(call) for call in tool_calls]
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": (scenario.answer_model if scenario else None) or model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if tool_calls else "stop",
                    }
                ],
                "usage": self._usage(body, reply + _arguments_text(tool_calls), cached, scenario),
            }
        )

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        """A deterministic bag-of-words embedding: texts sharing words point the same way."""
        body = json.loads(await request.read())
        with self._lock:
            self.requests.append(
                RecordedRequest(request.path, dict(request.headers), body, time.monotonic())
            )
        model = str(body.get("model", ""))
        scenario = self.scenarios.get(model.removeprefix("scenario/"))
        if scenario is not None and scenario.fault == "status":
            return web.json_response({"error": {"message": "boom"}}, status=scenario.status)
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = []
        for index, text in enumerate(texts):
            vector = [0.0] * EMBEDDING_SIZE
            for word in str(text).lower().split():
                vector[zlib.crc32(word.encode()) % EMBEDDING_SIZE] += 1.0
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(len(str(text).split()) for text in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _fault(
        self, request: web.Request, scenario: Scenario, body: dict[str, Any]
    ) -> web.StreamResponse | None:
        if scenario.fault == "status":
            headers = {}
            if scenario.retry_after is not None:
                headers["Retry-After"] = f"{scenario.retry_after:g}"
            return web.json_response(
                {"error": {"message": f"scenario status {scenario.status}", "type": "server"}},
                status=scenario.status,
                headers=headers,
            )
        if scenario.fault == "echo_auth":
            return web.json_response(
                {"error": {"message": f"bad key: {request.headers.get('Authorization', '')}"}},
                status=401,
            )
        if scenario.fault == "hang":
            await asyncio.sleep(3600)
        if scenario.fault == "malformed":
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if scenario.fault == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        return None

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        reply: str,
        cached: int,
        include_usage: bool,
        drop: bool,
        tool_calls: tuple[dict[str, str], ...] = (),
        scenario: Scenario | None = None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        model = (scenario.answer_model if scenario else None) or body.get("model", "")
        words = reply.split(" ") if reply else []

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": "chatcmpl-stream",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n".encode()

        await response.write(event({"role": "assistant", "content": ""}))
        for index, word in enumerate(words):
            if drop and index == len(words) // 2:
                if request.transport is not None:
                    request.transport.abort()
                return response
            await response.write(event({"content": word if index == 0 else " " + word}))
        for index, call in enumerate(tool_calls):
            first = {**_wire_call({**call, "arguments": ""}), "index": index}
            await response.write(event({"tool_calls": [first]}))
            arguments = call["arguments"]
            step = max(1, len(arguments) // 3)
            for start in range(0, len(arguments), step):
                piece = {"index": index, "function": {"arguments": arguments[start : start + step]}}
                await response.write(event({"tool_calls": [piece]}))
        await response.write(event({}, "tool_calls" if tool_calls else "stop"))
        if include_usage:
            usage_chunk = {
                "id": "chatcmpl-stream",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": self._usage(body, reply + _arguments_text(tool_calls), cached, scenario),
            }
            await response.write(f"data: {json.dumps(usage_chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> OpenAICompatibleServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_post("/chat/completions", self._chat)
            app.router.add_post("/v1/embeddings", self._embeddings)
            app.router.add_post("/embeddings", self._embeddings)
            # A `hang` scenario's handler sleeps for an hour: at stop, cancel it rather than
            # wait for it (aiohttp waits 60 s by default, and stop() joins for 10).
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, 0, backlog=1024)
            loop.run_until_complete(site.start())
            sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
            self.port = sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="openai-test-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def _wire_call(call: dict[str, str]) -> dict[str, Any]:
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


def _arguments_text(tool_calls: tuple[dict[str, str], ...]) -> str:
    return "".join(call["name"] + call["arguments"] for call in tool_calls)


def running_server(**kwargs: Any) -> Iterator[OpenAICompatibleServer]:
    server = OpenAICompatibleServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
