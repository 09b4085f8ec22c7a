"""F6's detail names each image, audio or file part where it was sent in the conversation:
`[image 1024×768 png 3 KB]`, from the part the gateway's recorder wrote (not the base64)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from llmbench.config import Settings
from llmbench.core.media import human_size
from llmbench.gateway.recorder import AuditRecorder
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.call_detail import CallDetailScreen
from tests.support.images import data_url, png
from tests.tui.conftest import DEMO_NOW, SIZE, open_pane, settle

IMAGE = png(1024, 768)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    messages = [
        {"role": "system", "content": "You describe photos."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is on this receipt?"},
                {"type": "image_url", "image_url": {"url": data_url("image/png", IMAGE)}},
                {"type": "image_url", "image_url": {"url": "https://example.com/b.jpg"}},
            ],
        },
    ]
    with open_db(tmp_path / "media.db") as opened:
        recorder = AuditRecorder(opened)
        row = {
            "ts": "2025-06-01T11:00:00.000Z",
            "request_id": "req-image",
            "model_requested": "openai/gpt-4o",
            "model": "gpt-4o",
            "messages": json.dumps(messages),
            "response": "A receipt for two coffees.",
            "status": "ok",
        }
        recorder.record(row, recorder.redactor()).result()
        recorder.flush()
        yield opened


async def test_the_detail_shows_each_part_where_it_was_sent(store: Store) -> None:
    app = LLMBenchApp(store, Settings(), db_label="media.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(app.screen, CallDetailScreen):
                break
            await pilot.pause(0.02)
        await settle(pilot)
        text = str(app.screen.query_one("#detail-text", Static).render())
    conversation = text[text.index("CONVERSATION") : text.index("RESPONSE")]
    user = conversation[conversation.index("USER") :]
    lines = [line.strip() for line in user.splitlines()]
    assert lines[1:4] == [
        "What is on this receipt?",
        f"[image 1024×768 png {human_size(len(IMAGE))}]",
        "[image url]",
    ]
    assert "base64" not in text and "llmbench-part:" not in text
