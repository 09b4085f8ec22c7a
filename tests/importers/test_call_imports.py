"""Importing other tools' calls: JSONL and OpenAI usage CSV — priced, never twice, and all or
nothing with the file and line of every bad row. simonw/llm's logs.db is imported from files
llm itself wrote: tests/importers/test_llm_logs_fixtures.py and test_llm_logs_import.py."""

from __future__ import annotations

import json
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
