"""A loopback server speaking OpenAI's Responses API (`POST /v1/responses`), for litellm's
`openai/responses/<model>` route with `api_base` at http://127.0.0.1:<port>/v1.

A stream is the Responses API's semantic server-sent events, each sent as `event: <type>` and
`data: <json>` (no `[DONE]` line: `response.completed` ends it). Replies are the reference
bodies of tests/data/wire/openai_responses/ (see its README for their sources).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.wire_server import Reply, WireServer, reference

PROVIDER = "openai_responses"


def _frame(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


class ResponsesServer(WireServer):
    def __init__(self) -> None:
        super().__init__(["/v1/responses"], _frame)

    @property
    def api_base(self) -> str:
        return f"{self.origin}/v1"


def body(name: str, status: int = 200) -> Reply:
    """A whole answer (or an error) from a reference body."""
    return Reply(status=status, body=reference(PROVIDER, name))


def stream(name: str) -> Reply:
    """A streamed answer from a reference list of events."""
    return Reply(events=tuple(reference(PROVIDER, name)))


def running_responses_server() -> Iterator[ResponsesServer]:
    server = ResponsesServer().start()
    try:
        yield server
    finally:
        server.stop()
