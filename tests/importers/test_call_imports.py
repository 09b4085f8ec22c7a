"""Importing other tools' calls: simonw/llm's logs.db in both shapes, JSONL and OpenAI usage
CSV — priced, never twice, and all or nothing with the file and line of every bad row."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.core.models import Price
from llmbench.importers.calls.common import CallImportError
from llmbench.importers.calls.jsonl import parse_map
from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db

PRICES = {"gpt-4o-mini": Price(input=0.15, output=0.6, cached=0.075)}


def prices(model: str, _ts: str) -> Price | None:
    return PRICES.get(model)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "bench.db")
    yield store
    store.close()


def _calls(store: Store) -> list[tuple]:
    return (
        store.read()
        .execute(
            "SELECT request_id, ts, model_requested, model, prompt_tokens, completion_tokens,"
            " cached_tokens, cost, latency_ms, messages, response FROM calls ORDER BY id"
        )
        .fetchall()
    )


def _responses_db(path: Path, rows: list[tuple]) -> Path:
    """A logs.db as llm before 0.36 wrote it (migrations m010, m013, m019)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);
        CREATE TABLE responses (
            id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT, prompt_json TEXT,
            options_json TEXT, response TEXT, response_json TEXT,
            conversation_id TEXT REFERENCES conversations(id), duration_ms INTEGER,
            datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER, token_details TEXT,
            schema_id TEXT, resolved_model TEXT
        );
        """
    )
    conn.executemany(
        "INSERT INTO responses (id, model, prompt, system, options_json, response, duration_ms,"
        " datetime_utc, input_tokens, output_tokens, resolved_model)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return path


GOOD_RESPONSES = [
    ("01a", "gpt-4o-mini", "Hi", "Be brief", '{"max_tokens": 50}', "Hello!", 420,
     "2025-05-01T10:00:00.123456", 1000, 200, None),
    ("01b", "4o-mini", "Again", None, "{}", "Sure.", 300, "2025-05-02T11:30:00", 2000, 100,
     "gpt-4o-mini"),
    ("01c", "local-llama", "Q", None, None, "A", None, "2025-05-03T09:00:00", 10, 5, None),
]  # fmt: skip


def test_llm_logs_responses_shape_imports_priced_and_only_once(
    store: Store, tmp_path: Path
) -> None:
    path = _responses_db(tmp_path / "logs.db", GOOD_RESPONSES)
    outcome = import_file(store, "llm-logs", path, prices=prices)
    assert (outcome.read, outcome.added, outcome.skipped, outcome.unpriced) == (3, 3, 0, 1)
    rows = _calls(store)
    first, second, third = rows
    assert first[:7] == (
        "llm:01a", "2025-05-01T10:00:00.123Z", "gpt-4o-mini", "gpt-4o-mini", 1000, 200, 0
    )  # fmt: skip
    assert first[7] == pytest.approx((1000 * 0.15 + 200 * 0.6) / 1e6)
    assert first[8] == 420.0
    assert json.loads(first[9]) == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Hi"},
    ]
    assert first[10] == "Hello!"
    # The alias asked for and the model that answered (resolved_model) are both kept.
    assert (second[2], second[3]) == ("4o-mini", "gpt-4o-mini")
    assert third[7] is None  # no price for a local model: unpriced, not free
    again = import_file(store, "llm-logs", path, prices=prices)
    assert (again.added, again.skipped) == (0, 3)
    assert len(_calls(store)) == 3


# llm's node-tree schema, as its docs/logging.md prints it (the tables a call's import reads).
NODE_TREE_SCHEMA = """
CREATE TABLE [conversations] ([id] TEXT PRIMARY KEY, [name] TEXT, [model] TEXT);
CREATE TABLE [responses] (
  [id] TEXT PRIMARY KEY, [model] TEXT, [resolved_model] TEXT,
  [conversation_id] TEXT REFERENCES [conversations]([id]),
  [input_node_id] TEXT REFERENCES [nodes]([id]),
  [first_input_node_id] TEXT REFERENCES [nodes]([id]),
  [output_node_id] TEXT REFERENCES [nodes]([id]),
  [prompt] TEXT, [system] TEXT, [response] TEXT, [reasoning] TEXT, [options_json] TEXT,
  [schema_id] TEXT, [prompt_json] TEXT, [response_json] TEXT, [duration_ms] INTEGER,
  [datetime_utc] TEXT, [input_tokens] INTEGER, [output_tokens] INTEGER, [token_details] TEXT
);
CREATE TABLE [messages] ([id] TEXT PRIMARY KEY, [role] TEXT, [provider_metadata] TEXT);
CREATE TABLE [parts] (
  [id] INTEGER PRIMARY KEY, [message_id] TEXT REFERENCES [messages]([id]), [order] INTEGER,
  [type] TEXT, [text] TEXT, [redacted] INTEGER, [name] TEXT, [arguments] TEXT, [output] TEXT,
  [tool_call_id] TEXT, [server_executed] INTEGER, [exception] TEXT, [instance_id] INTEGER,
  [attachment_id] TEXT, [provider_metadata] TEXT
);
CREATE TABLE [nodes] (
  [id] TEXT PRIMARY KEY, [parent_id] TEXT REFERENCES [nodes]([id]),
  [message_id] TEXT REFERENCES [messages]([id]), [depth] INTEGER
);
"""


def test_llm_logs_node_tree_keeps_each_calls_whole_conversation(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "logs.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        NODE_TREE_SCHEMA
        + """
        INSERT INTO conversations VALUES ('c1', 'chat', 'gpt-4o-mini');
        INSERT INTO messages VALUES ('m-sys', 'system', NULL), ('m-u1', 'user', NULL),
            ('m-a1', 'assistant', NULL), ('m-u2', 'user', NULL), ('m-a2', 'assistant', NULL);
        INSERT INTO parts (message_id, [order], type, text, name, arguments, output) VALUES
            ('m-sys', 0, 'text', 'Be kind', NULL, NULL, NULL),
            ('m-u1', 0, 'text', 'Weather in Oslo?', NULL, NULL, NULL),
            ('m-a1', 0, 'reasoning', 'think', NULL, NULL, NULL),
            ('m-a1', 1, 'tool_call', NULL, 'weather', '{"city": "Oslo"}', NULL),
            ('m-u2', 0, 'tool_result', NULL, 'weather', NULL, '4°C'),
            ('m-a2', 0, 'text', 'It is 4°C.', NULL, NULL, NULL);
        INSERT INTO nodes VALUES ('n0', NULL, 'm-sys', 0), ('n1', 'n0', 'm-u1', 1),
            ('n2', 'n1', 'm-a1', 2), ('n3', 'n2', 'm-u2', 3), ('n4', 'n3', 'm-a2', 4);
        INSERT INTO responses (id, model, resolved_model, conversation_id, input_node_id,
            first_input_node_id, output_node_id, prompt, system, response, options_json,
            duration_ms, datetime_utc, input_tokens, output_tokens) VALUES
            ('03a', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 'c1', 'n1', 'n0', 'n2',
             'Weather in Oslo?', 'Be kind', '', '{}', 900, '2025-05-04T08:00:00', 300, 40),
            ('03b', 'gpt-4o-mini', NULL, 'c1', 'n3', 'n3', 'n4', NULL, 'Be kind',
             'It is 4°C.', NULL, 1100, '2025-05-04T08:01:00', 500, 60);
        """
    )
    conn.commit()
    conn.close()
    outcome = import_file(store, "llm-logs", path, prices=prices)
    assert (outcome.read, outcome.added) == (2, 2)
    first, second = _calls(store)
    assert first[:6] == (
        "llm:03a", "2025-05-04T08:00:00.000Z", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 300, 40
    )  # fmt: skip
    assert json.loads(first[9]) == [
        {"role": "system", "content": "Be kind"},
        {"role": "user", "content": "Weather in Oslo?"},
    ]
    # The second call sent the whole conversation so far, its tool call and result included.
    assert json.loads(second[9]) == [
        {"role": "system", "content": "Be kind"},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": 'weather({"city": "Oslo"})'},
        {"role": "user", "content": "4°C"},
    ]
    assert second[10] == "It is 4°C."
    assert second[7] == pytest.approx((500 * 0.15 + 60 * 0.6) / 1e6)


def test_a_bad_llm_logs_row_refuses_the_whole_file(store: Store, tmp_path: Path) -> None:
    bad = [*GOOD_RESPONSES, ("01d", "gpt-4o-mini", "x", None, "{}", "y", 1, None, 1, 1, None),
           ("01e", "gpt-4o-mini", "x", None, "{}", "y", 1, "2025-05-05", -3, 1, None)]  # fmt: skip
    path = _responses_db(tmp_path / "logs.db", bad)
    with pytest.raises(CallImportError) as caught:
        import_file(store, "llm-logs", path, prices=prices)
    message = str(caught.value)
    assert "logs.db: responses row 4: no time" in message
    assert "logs.db: responses row 5: input_tokens is negative: -3" in message
    assert _calls(store) == []


def test_a_file_that_is_not_llm_logs_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CallImportError, match=r"not llm's logs\.db"):
        import_file(store, "llm-logs", path, prices=prices)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 200)
    with pytest.raises(CallImportError, match="not a SQLite database"):
        import_file(store, "llm-logs", text, prices=prices)


OPENAI_LINE = {
    "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}],
                "max_tokens": 64},
    "response": {"id": "chatcmpl-1", "created": 1746093600, "model": "gpt-4o-mini-2024-07-18",
                 "choices": [{"message": {"content": "Hello"}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 12, "completion_tokens": 3,
                           "prompt_tokens_details": {"cached_tokens": 4}}},
    "metadata": {"feature": "chat"},
}  # fmt: skip
SPEND_LINE = {
    "request_id": "abc", "model": "gpt-4o-mini", "startTime": "2025-05-01T10:00:00Z",
    "spend": 0.002, "prompt_tokens": 100, "completion_tokens": 20, "end_user": "acme",
}  # fmt: skip


def test_jsonl_reads_openai_pairs_and_spend_logs(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(OPENAI_LINE) + "\n\n" + json.dumps(SPEND_LINE) + "\n")
    outcome = import_file(store, "jsonl", path, prices=prices)
    assert (outcome.read, outcome.added) == (2, 2)
    openai, spend = _calls(store)
    assert openai[:7] == (
        "jsonl:chatcmpl-1", "2025-05-01T10:00:00.000Z", "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18", 12, 3, 4,
    )  # fmt: skip
    assert openai[7] is None  # the dated snapshot has no price of its own here
    assert spend[0] == "jsonl:abc" and spend[7] == pytest.approx(0.002)  # the log's own cost
    row = store.read().execute("SELECT feature, customer, params FROM calls ORDER BY id").fetchall()
    assert row[0][0] == "chat" and json.loads(row[0][2]) == {"max_tokens": 64}
    assert row[1][1] == "acme"
    assert import_file(store, "jsonl", path, prices=prices).added == 0


def test_jsonl_map_points_fields_at_other_paths(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "custom.jsonl"
    path.write_text(json.dumps({"when": "2025-05-01", "llm": {"name": "gpt-4o-mini"},
                                "in": 10, "out": 2, "app": "search"}) + "\n")  # fmt: skip
    mapping = parse_map(["ts=when", "model=llm.name", "prompt_tokens=in",
                         "completion_tokens=out", "feature=app"])  # fmt: skip
    import_file(store, "jsonl", path, mapping, prices=prices)
    (call,) = _calls(store)
    assert call[1:6] == ("2025-05-01T00:00:00.000Z", "gpt-4o-mini", "gpt-4o-mini", 10, 2)
    with pytest.raises(ValueError, match="unknown field"):
        parse_map(["colour=x"])


def test_bad_jsonl_lines_are_named_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    lines = [json.dumps(SPEND_LINE), "{not json", json.dumps({"model": "x"}),
             json.dumps({**SPEND_LINE, "request_id": "z", "prompt_tokens": "many"})]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CallImportError) as caught:
        import_file(store, "jsonl", path, prices=prices)
    assert [str(problem) for problem in caught.value.problems] == [
        "calls.jsonl:2: not JSON (Expecting property name enclosed in double quotes)",
        "calls.jsonl:3: no time (map one with --map ts=PATH)",
        "calls.jsonl:4: prompt_tokens is not a count: 'many'",
    ]
    assert _calls(store) == []


CSV_HEADER = (
    "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,"
    "api_key_id,model,batch,input_tokens,output_tokens,input_cached_tokens\n"
)


def test_openai_usage_csv_buckets_become_calls(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        CSV_HEADER
        + "1746057600,1746144000,2025-05-01T00:00:00+00:00,2025-05-02T00:00:00+00:00,proj_a,"
        "12,,key_1,gpt-4o-mini,false,12000,3000,2000\n"
        + "1746144000,1746230400,2025-05-02T00:00:00+00:00,2025-05-03T00:00:00+00:00,proj_a,"
        "3,,key_1,gpt-4o-mini,false,3000,600,0\n"
    )
    outcome = import_file(store, "usage-csv", path, prices=prices)
    assert (outcome.read, outcome.added) == (2, 2)
    first = _calls(store)[0]
    assert first[1:7] == ("2025-05-01T00:00:00.000Z", "gpt-4o-mini", "gpt-4o-mini",
                          12000, 3000, 2000)  # fmt: skip
    assert first[7] == pytest.approx((10000 * 0.15 + 2000 * 0.075 + 3000 * 0.6) / 1e6)
    tags = json.loads(store.read().execute("SELECT tags FROM calls LIMIT 1").fetchone()[0])
    assert tags["requests"] == 12
    assert import_file(store, "usage-csv", path, prices=prices).added == 0


def test_bad_csv_rows_are_named_by_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        CSV_HEADER
        + "1746057600,1746144000,2025-05-01T00:00:00+00:00,x,p,1,,k,gpt-4o-mini,false,1,1,0\n"
        + "1746057600,1746144000,2025-05-01T00:00:00+00:00,x,p,1,,k,gpt-4o-mini,false,abc,1,0\n"
        + "1746057600,1746144000\n"
    )
    with pytest.raises(CallImportError) as caught:
        import_file(store, "usage-csv", path, prices=prices)
    assert [str(problem) for problem in caught.value.problems] == [
        "usage.csv:3: input_tokens is not a count: 'abc'",
        "usage.csv:4: expected 13 columns",
    ]
    assert _calls(store) == []
    wrong = tmp_path / "costs.csv"
    wrong.write_text("start_time,amount_value\n1,2\n")
    with pytest.raises(CallImportError, match=r"costs\.csv:1: no model, input_tokens"):
        import_file(store, "usage-csv", wrong, prices=prices)
