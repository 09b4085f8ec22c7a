"""F6's thread view (`h`) names each image, audio or file part of a step's own user message as
the detail does (`[image 1024×768 png 3 KB]`, from the part the gateway's recorder wrote), in
its place among the message's text; a step that only sent tool results does not repeat the
images of earlier turns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from llmbench.config import Settings
from llmbench.core.media import human_size
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.thread_view import ThreadScreen
from tests.support.images import data_url, png
from tests.tui.conftest import DEMO_NOW, SIZE, open_pane, settle

IMAGE = png(1024, 768)
ASK = {
    "role": "user",
    "content": [
        {"type": "text", "text": "What is on this receipt?"},
        {"type": "image_url", "image_url": {"url": data_url("image/png", IMAGE)}},
        {"type": "text", "text": "And the total?"},
    ],
}
CALL = {"id": "call_a", "type": "function", "function": {"name": "read_total"}}
CALL["function"]["arguments"] = "{}"
SECOND = [
    ASK,
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_a", "content": "12.40 EUR"},
]
PHOTO = {"type": "image_url", "image_url": {"url": "https://example.com/b.jpg"}}
THIRD = [
    *SECOND,
    {"role": "assistant", "content": "12.40 EUR."},
    {"role": "user", "content": [PHOTO]},
]


def _row(n: int, messages: list[dict[str, Any]], **row: Any) -> dict[str, Any]:
    return {
        "ts": f"2025-06-01T11:00:0{n}.000Z",
        "request_id": f"req-{n}",
        "model_requested": "openai/gpt-4o",
        "model": "gpt-4o",
        "messages": json.dumps(messages),
        "status": "ok",
        "conversation_id": "receipts-1",
        **row,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "thread-media.db") as opened:
        recorder = AuditRecorder(opened)
        tool_calls = json.dumps([{"id": "call_a", "name": "read_total", "arguments": "{}"}])
        for row in (
            _row(1, [ASK], tool_calls=tool_calls),
            _row(2, SECOND, response="12.40 EUR."),
            _row(3, THIRD, response="A photo of a bicycle."),
        ):
            recorder.record(row, recorder.redactor()).result()
        recorder.flush()
        yield opened


async def test_the_thread_names_each_steps_media_parts_in_place(store: Store) -> None:
    app = LLMBenchApp(store, Settings(), db_label="thread-media.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ThreadScreen)
        steps = screen.query_one("#thread-steps", OptionList)
        assert steps.option_count == 3
        texts = [str(steps.get_option_at_index(i).prompt) for i in range(3)]
    size = human_size(len(IMAGE))
    assert f"user: What is on this receipt? [image 1024×768 png {size}] And the total?" in texts[0]
    assert "user:" not in texts[1] and "← tool [call_a]: 12.40 EUR" in texts[1]
    assert "[image" not in texts[1]  # the first turn's image is not this step's
    assert "user: [image url]" in texts[2]  # a message of an image alone
    assert all("base64" not in text and "llmbench-part:" not in text for text in texts)
