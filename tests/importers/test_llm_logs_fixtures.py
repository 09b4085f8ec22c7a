"""`llmbench import llm-logs` on logs.db files made by simonw/llm itself (0.13, 0.19, 0.31,
0.36 and a 0.19 file upgraded by 0.36; tests/data/llm_logs, made by
scripts/make_llm_fixtures.py): every call of the file is imported, and each imported field —
time, model, text, the whole message list, tokens, conversation (calls.conversation_id), tool
calls (calls.tool_calls) and results,
fragments, attachments — matches what the file holds, read here with sqlite3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db
from tests.importers.llm_logs_source import FIXTURES, SourceCall, source_calls, store_time

FILES = ("llm-0.13-logs.db", "llm-0.19-logs.db", "llm-0.31-logs.db", "llm-0.36-logs.db",
         "llm-0.19-upgraded-to-0.36-logs.db")  # fmt: skip


def no_price(_model: str, _ts: str) -> None:
    return None  # the echo and markov models have no price; litellm stays out of the test


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "bench.db")
    yield store
    store.close()


def imported(store: Store) -> dict[str, dict[str, Any]]:
    cursor = store.read().execute(
        "SELECT request_id, ts, model_requested, model, messages, response, params,"
        " prompt_tokens, completion_tokens, tokens_estimated, latency_ms, tags, tool_calls,"
        " conversation_id FROM calls"
        " ORDER BY id"
    )
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if p.get("type") == "text")
    return content or ""


def _check_call(source: SourceCall, call: dict[str, Any]) -> None:
    where = f"{source.table} {source.id}"
    messages = json.loads(call["messages"]) if call["messages"] else []
    tags = json.loads(call["tags"])
    assert call["ts"] == store_time(source.datetime_utc), where
    assert call["model_requested"] == source.model, where
    assert call["model"] == (source.resolved_model or source.model), where
    assert call["latency_ms"] == source.duration_ms, where
    # Tokens: llm's own counts when it has them; estimated and flagged when it has none.
    if source.input_tokens is None or source.output_tokens is None:
        assert call["tokens_estimated"] == 1, where
    else:
        assert call["tokens_estimated"] == 0, where
    if source.input_tokens is None:
        assert call["prompt_tokens"] > 0, where
    else:
        assert call["prompt_tokens"] == source.input_tokens, where
    if source.output_tokens is None:
        assert call["completion_tokens"] > 0, where
    else:
        assert call["completion_tokens"] == source.output_tokens, where
    # Text: the answer, and what was typed as the last user message sent.
    # The tool calls in their own column (as the gateway keeps an answer's), the response
    # only the text answer.
    tool_calls = [
        (c["name"], json.loads(c["arguments"]), c["id"] or None)
        for c in json.loads(call["tool_calls"] or "[]")
    ]
    assert tool_calls == source.tool_calls, where
    assert call["tool_calls"] is None or tool_calls, where  # never an empty list
    assert (call["response"] or None) == (source.response or None), where
    assert "tool_calls" not in tags, where
    # The whole conversation sent: each user message (fragments come before what was typed).
    users = [_text(m["content"]) for m in messages if m["role"] == "user"]
    assert len(users) == len(source.user_texts), where
    for sent, typed in zip(users, source.user_texts, strict=True):
        assert typed is None or sent.endswith(typed), where
    if source.typed_prompt:
        assert users[-1].endswith(source.typed_prompt), where
    assert json.loads(call["params"]) == json.loads(source.options or "{}"), where
    if source.system:
        assert source.system in [m["content"] for m in messages if m["role"] == "system"], where
    assert [m["content"] for m in messages if m["role"] == "tool"] == source.tool_results, where
    if source.roles:  # the turns layout: one chat message per llm message, tools one per result
        roles = [m["role"] for i, m in enumerate(messages)
                 if m["role"] != "tool" or i == 0 or messages[i - 1]["role"] != "tool"]  # fmt: skip
        assert roles == source.roles, where
    # Conversation, fragments, attachments.
    assert tags["source"] == "llm-logs" and tags["table"] == source.table, where
    conversation = None if source.conversation is None else str(source.conversation)
    assert call["conversation_id"] == conversation, where
    assert "conversation" not in tags, where
    assert tags.get("conversation_name") == (source.conversation_name or None), where
    assert [f["hash"] for f in tags.get("fragments", [])] == source.fragment_hashes, where
    # size: llm keeps the bytes (and so a size) of piped attachments, only the path of files.
    assert [(a["id"], a["type"], a.get("size")) for a in tags.get("attachments", [])] == (
        source.attachments
    ), where


@pytest.mark.parametrize("name", FILES)
def test_every_call_of_a_real_logs_db_is_imported_field_by_field(store: Store, name: str) -> None:
    path = FIXTURES / name
    expected = source_calls(path)
    outcome = import_file(store, "llm-logs", path, prices=no_price)
    assert (outcome.read, outcome.added, outcome.skipped) == (len(expected), len(expected), 0)
    calls = imported(store)
    assert list(calls) == [f"llm:{source.id}" for source in expected]
    for source in expected:
        _check_call(source, calls[f"llm:{source.id}"])
    # Importing the same file again adds nothing.
    again = import_file(store, "llm-logs", path, prices=no_price)
    assert (again.read, again.added, again.skipped) == (len(expected), 0, len(expected))
    assert len(imported(store)) == len(expected)


def test_the_fixtures_hold_every_kind_of_call_they_claim() -> None:
    """The committed files are what the tests above need: a test on a file without
    conversations, tools or NULL tokens would prove nothing about them."""
    for name in FILES:
        calls = source_calls(FIXTURES / name)
        assert any(len(c.user_texts) > 1 for c in calls), name  # a follow-up in a conversation
        assert any(c.input_tokens is None for c in calls), name  # no usage recorded
        assert any(c.system for c in calls), name
        assert any("café" in (c.typed_prompt or "") for c in calls), name
    for name in ("llm-0.31-logs.db", "llm-0.36-logs.db"):
        calls = source_calls(FIXTURES / name)
        assert any(c.tool_calls for c in calls), name
        assert any(c.tool_results for c in calls), name
        assert any(c.fragment_hashes for c in calls), name
        assert any(c.input_tokens is not None for c in calls), name
    for name in ("llm-0.19-logs.db", "llm-0.31-logs.db", "llm-0.36-logs.db"):
        assert any(c.attachments for c in source_calls(FIXTURES / name)), name
    tables = [c.table for c in source_calls(FIXTURES / "llm-0.19-upgraded-to-0.36-logs.db")]
    assert tables.count("turns") == 3 and tables.count("responses") > 3
