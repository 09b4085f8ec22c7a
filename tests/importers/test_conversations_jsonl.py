"""JSON lines of calls carry their conversation, trace and parent step, and an answer's tool
calls (OpenAI's shape or the audit log's): read from the fields OpenAI-style logs and litellm's
spend logs use (or a `--map`), stored in the calls' own columns, the parent named by its
imported request_id; a line whose id is not an id is a problem with its line number, and
nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.importers.calls.common import CallImportError
from llmbench.importers.calls.jsonl import parse_map
from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db


def no_price(_model: str, _ts: str) -> None:
    return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "bench.db") as opened:
        yield opened


def _line(n: int, **fields: object) -> str:
    return json.dumps(
        {
            "id": f"req-{n}",
            "timestamp": f"2026-03-01T10:00:0{n}Z",
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"turn {n}"}],
            "output": f"answer {n}",
            **fields,
        }
    )


def test_conversation_trace_and_parent_are_imported(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "calls.jsonl"
    source.write_text(
        "\n".join(
            [
                _line(1, conversation_id="chat-1", trace_id="run-1"),
                _line(2, metadata={"session_id": "chat-1", "trace_id": "run-1"}, parent_id="req-1"),
                _line(3, session_id=42),  # litellm's spend logs: a session, here a number
                _line(4, thread={"key": "chat-2"}),  # only with --map
                _line(
                    5,
                    tool_calls=[
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup_order", "arguments": '{"order": 7}'},
                        }
                    ],
                ),  # OpenAI's shape
            ]
        )
        + "\n"
    )
    outcome = import_file(
        store, "jsonl", source, mapping=parse_map(["conversation_id=thread.key"]), prices=no_price
    )
    assert outcome.added == 5
    rows = store.read().execute(
        "SELECT request_id, conversation_id, trace_id, parent_request_id FROM calls ORDER BY id"
    )
    tool_calls = store.read().execute("SELECT tool_calls FROM calls ORDER BY id").fetchall()
    assert [json.loads(row[0]) if row[0] else None for row in tool_calls] == [None] * 4 + [
        [{"id": "call_1", "name": "lookup_order", "arguments": '{"order": 7}'}]
    ]
    assert rows.fetchall() == [
        ("jsonl:req-1", "chat-1", "run-1", None),
        ("jsonl:req-2", "chat-1", "run-1", "jsonl:req-1"),
        ("jsonl:req-3", "42", None, None),
        ("jsonl:req-4", "chat-2", None, None),
        ("jsonl:req-5", None, None, None),
    ]


def test_an_id_that_is_not_one_names_its_line_and_nothing_is_written(
    store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(
        _line(1, conversation_id="chat-1")
        + "\n"
        + _line(2, conversation_id={"nested": "object"})
        + "\n"
        + _line(3, trace_id="x" * 300)
        + "\n"
        + _line(4, tool_calls="lookup_order()")
        + "\n"
    )
    with pytest.raises(CallImportError) as caught:
        import_file(store, "jsonl", source, prices=no_price)
    message = str(caught.value)
    assert "bad.jsonl:2" in message and "conversation_id is not an id" in message
    assert "bad.jsonl:3" in message and "trace_id" in message
    assert "bad.jsonl:4" in message and "tool_calls is not a list" in message
    assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 0
