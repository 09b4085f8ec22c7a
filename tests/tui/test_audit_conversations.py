"""F6's thread view (`h`): a conversation of 5 steps over two traces, with tool calls and
their results, shown as steps in order, each under the step it was made in, with its own
tokens, cost and latency; enter opens a step in full; `/` filters the log to the
conversation (the query language's `conversation:`). A call in no thread says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList, Static

from llmbench.config import Settings
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.call_detail import CallDetailScreen
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.audit.thread_view import ThreadScreen
from tests.support.traffic import write_calls
from tests.tui.conftest import DEMO_NOW, SIZE, open_pane, settle

ASK = {"role": "user", "content": "Where is my order 7?"}
LOOKUP = {"id": "call_a", "name": "lookup_order", "arguments": '{"order": 7}'}
TRACK = {"id": "call_b", "name": "track_parcel", "arguments": '{"carrier": "dhl"}'}
CHANGE = {"id": "call_c", "name": "change_address", "arguments": '{"street": "Main St 1"}'}


def _sent(call: dict[str, str]) -> dict[str, Any]:
    function = {"name": call["name"], "arguments": call["arguments"]}
    sent = {"id": call["id"], "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [sent]}


def _result(call_id: str, content: str) -> dict[str, str]:
    return {"role": "tool", "tool_call_id": call_id, "name": "", "content": content}


def _step(n: int, messages: list[dict[str, Any]], **row: Any) -> dict[str, Any]:
    return {
        "ts": f"2025-06-01T11:00:0{n}.000Z",
        "request_id": f"req-{n}",
        "model_requested": "openai/gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "messages": json.dumps(messages),
        "prompt_tokens": 100 + n,
        "completion_tokens": 10 * n,
        "cost": n / 1000,
        "latency_ms": 300.0 * n,
        "conversation_id": "support-42",
        **row,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    first = [ASK]
    second = [*first, _sent(LOOKUP), _result("call_a", "shipped on Friday")]
    third = [*second, _sent(TRACK), _result("call_b", "arrives Monday")]
    address = {"role": "user", "content": "Can I change the address?"}
    fourth = [*third, {"role": "assistant", "content": "It arrives Monday."}, address]
    fifth = [*fourth, _sent(CHANGE), _result("call_c", "address changed")]
    with open_db(tmp_path / "threads.db") as opened:
        write_calls(
            opened,
            [
                _step(1, first, trace_id="run-1", tool_calls=json.dumps([LOOKUP])),
                _step(2, second, trace_id="run-1", parent_request_id="req-1",
                      tool_calls=json.dumps([TRACK])),
                _step(3, third, trace_id="run-1", parent_request_id="req-2",
                      response="It arrives Monday."),
                _step(4, fourth, trace_id="run-2", tool_calls=json.dumps([CHANGE])),
                _step(5, fifth, trace_id="run-2", parent_request_id="req-4",
                      response="Done: the address is changed."),
                _step(6, [ASK], conversation_id="other-chat", ts="2025-06-01T10:00:00.000Z"),
                _step(7, [ASK], conversation_id=None, ts="2025-06-01T11:30:00.000Z"),
            ],
        )  # fmt: skip
        yield opened


async def test_the_thread_of_a_conversation_step_by_step(store: Store) -> None:
    app = LLMBenchApp(store, Settings(), db_label="threads.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f6")
        pane = app.screen
        assert isinstance(pane, AuditScreen)
        # The newest call is in no conversation or trace: the view says so.
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ThreadScreen)
        title = str(app.screen.query_one("#thread-title", Static).render())
        assert "Call #7 is in no conversation or trace." in title
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("down", "h")  # the newest step of the conversation
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ThreadScreen)
        title = str(screen.query_one("#thread-title", Static).render())
        assert title.startswith("Conversation support-42  ·  5 steps  ·  2 traces")
        assert "3 tool calls" in title and "$0.0150" in title
        steps = screen.query_one("#thread-steps", OptionList)
        assert [steps.get_option_at_index(i).id for i in range(steps.option_count)] == [
            "1", "2", "3", "4", "5"
        ]  # fmt: skip
        assert steps.highlighted == 4  # the call it was opened on
        texts = [str(steps.get_option_at_index(i).prompt) for i in range(5)]
        # Each step's own figures, indented under the step it was made in.
        assert texts[0].startswith("#1  2025-06-01 11:00:01  gpt-4o  ok  ·  101 in, 10 out")
        assert "$0.0010  ·  300 ms" in texts[0] and "trace run-1" in texts[0]
        assert "user: Where is my order 7?" in texts[0]
        assert '→ lookup_order({"order": 7})  [call_a]' in texts[0]
        assert texts[1].startswith("   └─ #2") and texts[2].startswith("      └─ #3")
        assert "← tool [call_a]: shipped on Friday" in texts[1]
        assert '→ track_parcel({"carrier": "dhl"})  [call_b]' in texts[1]
        assert "← tool [call_b]: arrives Monday" in texts[2]
        assert "answer: It arrives Monday." in texts[2] and "user:" not in texts[2]
        assert texts[3].startswith("#4") and "trace run-2" in texts[3]
        assert "user: Can I change the address?" in texts[3]
        assert texts[4].startswith("   └─ #5") and "← tool [call_c]: address changed" in texts[4]

        # Enter opens the step in full; escape comes back to the thread.
        steps.highlighted = 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallDetailScreen) and app.screen.call_id == 2
        detail = str(app.screen.query_one("#detail-text", Static).render())
        assert "Conversation support-42  ·  trace run-1  ·  under request req-1" in detail
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        # `/` filters the log to the conversation.
        await pilot.press("slash")
        await settle(pilot)
        assert app.screen is pane
        assert pane.query_text == 'conversation:"support-42"'
        assert pane.matches == (5, True)


def test_the_demo_has_support_chats_as_conversations_with_tool_loops(demo_sql: Any) -> None:
    """`llmbench demo` (here at the TUI tests' size) holds a few conversations: tool loops whose
    answering step hangs under the step that called the tool, outside the newest days."""
    threads = demo_sql.execute(
        "SELECT conversation_id, count(*), sum(tool_calls IS NOT NULL),"
        " sum(parent_request_id IS NOT NULL), count(DISTINCT trace_id), max(ts)"
        " FROM calls WHERE conversation_id IS NOT NULL GROUP BY conversation_id"
    ).fetchall()
    assert len(threads) >= 5
    for _conversation, steps, with_tools, children, traces, newest in threads:
        assert steps >= 3 and with_tools >= 1 and children >= 1 and traces >= 2
        assert newest < "2025-05-29T12:00"  # three days before the demo's now
    parent, child = demo_sql.execute(
        "SELECT p.tool_calls, c.messages FROM calls c JOIN calls p"
        " ON p.request_id = c.parent_request_id LIMIT 1"
    ).fetchone()
    (called,) = json.loads(parent)
    answered = json.loads(child)[-1]
    assert answered["role"] == "tool" and answered["tool_call_id"] == called["id"]
