"""F6 shows a tool loop as a conversation: the assistant's tool calls by name and arguments
with their ids, each tool's result under the id it answers, and the calls the answer made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from llmbench.config import Settings
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.call_detail import CallDetailScreen
from tests.support.traffic import write_calls
from tests.tui.conftest import DEMO_NOW, SIZE, open_pane, settle

MESSAGES = [
    {"role": "user", "content": "Is it warmer in Paris or in Oslo?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_paris",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_paris", "content": "18 °C, cloudy"},
]
ANSWER_CALLS = [{"id": "call_oslo", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "tools.db") as opened:
        write_calls(
            opened,
            [
                {
                    "ts": "2025-06-01T11:00:00.000Z",
                    "request_id": "req-tools",
                    "model_requested": "openai/gpt-4o",
                    "model": "gpt-4o",
                    "messages": json.dumps(MESSAGES),
                    "tool_calls": json.dumps(ANSWER_CALLS),
                    "finish_reason": "tool_calls",
                    "status": "ok",
                }
            ],
        )
        yield opened


async def test_the_detail_shows_a_tool_loop_and_the_calls_the_answer_made(store: Store) -> None:
    app = LLMBenchApp(store, Settings(), db_label="tools.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(app.screen, CallDetailScreen):
                break
            await pilot.pause(0.02)
        await settle(pilot)
        text = str(app.screen.query_one("#detail-text", Static).render())
    conversation = text[text.index("CONVERSATION") : text.index("INTEGRITY")]
    assert '→ get_weather({"city": "Paris"})  [call_paris]' in conversation
    assert "TOOL RESULT [call_paris]" in conversation and "18 °C, cloudy" in conversation
    response = conversation[conversation.index("RESPONSE") :]
    assert '→ get_weather({"city": "Oslo"})  [call_oslo]' in response
    assert '"tool_calls"' not in conversation  # read as calls, not dumped as JSON
