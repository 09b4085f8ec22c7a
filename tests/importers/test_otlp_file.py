"""`llmbench import otlp`: the OpenTelemetry Collector's file exporter output (OTLP JSON lines,
tests/data/otlp/collector_file.jsonl, see its README) imports its model-call spans as calls,
parents linked across lines; a bad line is reported with its file:line and nothing is written;
importing again adds nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.importers.calls.common import CallImportError
from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db

FIXTURE = Path(__file__).parent.parent / "data" / "otlp" / "collector_file.jsonl"


def no_price(_model: str, _ts: str) -> None:
    return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "bench.db") as opened:
        yield opened


def _rows(store: Store) -> list[tuple[object, ...]]:
    return (
        store.read()
        .execute(
            "SELECT json_extract(tags, '$.span'), model, prompt_tokens, completion_tokens,"
            " conversation_id, trace_id, parent_request_id, request_id, tool_calls, status"
            " FROM calls ORDER BY id"
        )
        .fetchall()
    )


def test_the_collector_file_imports_with_its_traces(store: Store) -> None:
    outcome = import_file(store, "otlp", FIXTURE, prices=no_price)
    assert (outcome.read, outcome.added, outcome.unpriced) == (4, 4, 4)
    rows = {row[0]: row for row in _rows(store)}
    assert set(rows) == {"openai.chat", "ChatCompletion", "chat gpt-4o", "litellm_request"}
    planner = rows["chat gpt-4o"]
    # Line 1's children name line 2's planner as their parent call, in the same trace.
    for child in ("openai.chat", "ChatCompletion"):
        assert rows[child][6] == planner[7]
        assert rows[child][5] == planner[5]
        assert rows[child][4] == "chat-7"
    assert planner[6] is None
    assert rows["openai.chat"][1:4] == ("gpt-4o-mini-2024-07-18", 15, 24)
    assert rows["ChatCompletion"][1:4] == ("gpt-4o", 52, 18)
    litellm = rows["litellm_request"]
    assert litellm[1:5] == ("gpt-4o-mini-2024-07-18", 40, 21, "support-9")
    assert json.loads(litellm[8]) == [
        {"id": "", "name": "book_table", "arguments": '{"people": 2}'}
    ]
    assert {row[9] for row in rows.values()} == {"ok"}

    again = import_file(store, "otlp", FIXTURE, prices=no_price)
    assert (again.added, again.skipped) == (0, 4)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"resourceSpans": [', "Expecting value"),
        ('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}',
         "traceId 'abc' is not 32 hex digits"),
        ('["not", "a", "request"]', "not a JSON object"),
    ],
)  # fmt: skip
def test_a_bad_line_is_reported_with_file_and_line_and_nothing_is_written(
    store: Store, tmp_path: Path, bad_line: str, message: str
) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    source = tmp_path / "export.jsonl"
    source.write_text("\n".join([lines[0], bad_line, *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(CallImportError) as raised:
        import_file(store, "otlp", source, prices=no_price)
    [problem] = raised.value.problems
    assert problem.where == "export.jsonl:2"
    assert message in problem.message
    assert _rows(store) == []


def test_a_model_call_span_that_cannot_be_a_call_names_its_line(
    store: Store, tmp_path: Path
) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    source = tmp_path / "export.jsonl"
    # The OpenLLMetry span's completion tokens made negative, on line 1.
    source.write_text(
        "\n".join([lines[0].replace('"intValue":"24"', '"intValue":"-24"'), *lines[1:]]) + "\n"
    )
    with pytest.raises(CallImportError) as raised:
        import_file(store, "otlp", source, prices=no_price)
    [problem] = raised.value.problems
    assert problem.where == "export.jsonl:1"
    assert "'openai.chat'" in problem.message and "completion tokens is negative" in problem.message
    assert _rows(store) == []


def test_import_otlp_on_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    source = tmp_path / "collector.jsonl"
    shutil.copy(FIXTURE, source)
    result = CliRunner().invoke(cli, ["import", "otlp", str(source), "--db", str(database)])
    assert result.exit_code == 0, result.output
    assert "collector.jsonl: 4 calls read, 4 added, 0 already in the log" in result.output

    source.write_text(source.read_text() + "{oops\n")
    refused = CliRunner().invoke(cli, ["import", "otlp", str(source), "--db", str(database)])
    assert refused.exit_code == 2
    assert "collector.jsonl:4: Expecting property name" in refused.output
