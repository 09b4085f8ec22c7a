"""An eval suite with tool-call checks on the built-in mock (#19): the suite's tools (and a
case's own tool_choice) reach the model, each cell keeps its tool calls, the checks pass and
fail on them, F3 shows them, F6's search finds the calls by a tool's name or an argument, and
`llmbench eval` gives the same verdicts. The mock calls the tool tool_choice names, with
arguments that follow the tool's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.config import GatewaySettings, GuardSettings, Settings
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.audit.browser import compile_query, read_page
from llmbench.services.compare.board import load_board
from llmbench.services.evaluation.engine import run_eval
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.store.db import Store, open_db

SUITE = Path(__file__).parents[1] / "data" / "tool_suite" / "weather_tools.yaml"
SETTINGS = Settings(gateway=GatewaySettings(max_retries=0), guard=GuardSettings(enabled=False))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "eval.db") as opened:
        yield opened
    shutdown_sync()


def _verdicts(store: Store, run_id: int) -> dict[str, list[tuple[str, int, str]]]:
    rows = store.read().execute(
        "SELECT json_extract(c.vars, '$.question'), k.kind, k.passed, k.detail"
        " FROM results r JOIN cases c ON c.id = r.case_id JOIN checks k ON k.result_id = r.id"
        " WHERE r.run_id = ? AND k.passed IS NOT NULL ORDER BY k.id",
        [run_id],
    )
    found: dict[str, list[tuple[str, int, str]]] = {}
    for question, kind, passed, detail in rows:
        found.setdefault(question, []).append((kind, passed, detail))
    return found


def test_a_tool_suite_runs_on_the_mock_and_its_calls_are_kept_shown_and_found(
    store: Store,
) -> None:
    prepared = prepare_suite(store, SUITE)
    assert prepared.plan.params["tool_choice"]["function"]["name"] == "get_weather"
    assert [tool["function"]["name"] for tool in prepared.plan.params["tools"]] == [
        "get_weather",
        "get_time",
    ]
    (oslo_case,) = prepared.plan.case_params  # the one case with a tool_choice of its own
    summary = run_eval(store, SETTINGS, prepared.plan)
    assert (summary.finished, summary.errors) == (3, 0)

    cells = store.read().execute(
        "SELECT json_extract(c.vars, '$.question'), r.output, r.tool_calls, r.case_id"
        " FROM results r JOIN cases c ON c.id = r.case_id WHERE r.run_id = ?",
        [summary.run_id],
    )
    calls = {question: (output, json.loads(kept), case) for question, output, kept, case in cells}
    paris = calls["What is the weather in Paris?"]
    assert paris[0] == "" and [call["name"] for call in paris[1]] == ["get_weather"]
    assert json.loads(paris[1][0]["arguments"])["unit"] in ("celsius", "fahrenheit")
    oslo = calls["What time is it in Oslo?"]
    assert oslo[2] == oslo_case and [call["name"] for call in oslo[1]] == ["get_time"]

    verdicts = _verdicts(store, summary.run_id)
    assert all(passed for _, passed, _ in verdicts["What is the weather in Paris?"])
    assert [kind for kind, _, _ in verdicts["What is the weather in Paris?"]] == [
        "is-valid-openai-tools-call",
        "tool-call",
        "tool-call-f1",
    ]
    assert all(passed for _, passed, _ in verdicts["What time is it in Oslo?"])
    book = dict(
        (kind, (passed, detail)) for kind, passed, detail in verdicts["Book a table for two"]
    )
    assert book["is-valid-openai-tools-call"][0] == 1
    assert book["tool-call"] == (0, "no call to 'book_table' (called: get_weather)")

    # F3 shows each cell's tool calls where its text would be.
    board = load_board(store, SETTINGS, summary.run_id)
    shown = [board.state(column, row).text for column in board.columns for row in board.rows]
    assert sum(text.startswith("→ get_weather({") for text in shown) == 2
    assert sum(text.startswith("→ get_time({") for text in shown) == 1

    # F6's search finds the calls by a tool's name and by a value of their arguments.
    def found(query: str) -> int:
        return len(read_page(store, compile_query(store, query)).rows)

    zone = json.loads(oslo[1][0]["arguments"])["zone"]
    assert found("get_time") == 1
    assert found('"get_weather"') == 2
    assert found(zone) >= 1 and found("zqxnotawordanywhere") == 0


def test_bad_tools_in_a_suite_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "prompts: [{name: p, text: hi}]\n"
        "tools: [{type: function, function: {description: no name}}]\n"
        "tests:\n"
        "  - vars: {a: 1}\n"
        "    tool_choice: sometimes\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    problems = [str(problem) for problem in error.value.problems]
    assert any(":2: the suite: tools[0]: the function needs a name" in p for p in problems)
    assert any(":5: a test: tool_choice must be one of" in p for p in problems)


def test_structured_output_is_checked_against_the_response_format_sent(
    store: Store, tmp_path: Path
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"],
    }
    suite = {
        "name": "structured",
        "prompts": [
            {
                "name": "structured",
                "text": "{{ question }}",
                "params": {
                    "response_format": {
                        "type": "json_schema",
                        "json_schema": {"name": "reply", "schema": schema},
                    }
                },
            }
        ],
        "models": ["llmbench/mock"],
        "checks": [{"type": "matches-response-format"}],
        "tests": [{"vars": {"question": "Is it raining?"}}],
    }
    path = tmp_path / "structured.yaml"
    path.write_text(json.dumps(suite), encoding="utf-8")
    summary = run_eval(store, SETTINGS, prepare_suite(store, path).plan)
    ((passed, detail),) = store.read().execute(
        "SELECT passed, detail FROM checks WHERE kind = 'matches-response-format'"
    )
    assert (passed, detail) == (1, "matches the response format 'reply'"), detail
    assert summary.errors == 0


def test_llmbench_eval_runs_the_tool_suite_with_the_same_verdicts(tmp_path: Path) -> None:
    out = tmp_path / "cells.json"
    result = CliRunner().invoke(
        cli,
        ["--db", str(tmp_path / "cli.db"), "eval", str(SUITE), "-o", str(out)],
        prog_name="llmbench",
    )
    shutdown_sync()
    assert result.exit_code == 1, result.output  # one check fails on purpose
    assert "2/3" in result.output
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    book = next(cell for cell in cells if not cell["passed"])
    assert book["failures"] == ["tool-call: no call to 'book_table' (called: get_weather)"]
    assert [call["name"] for call in book["tool_calls"]] == ["get_weather"]
