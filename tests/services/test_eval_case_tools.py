"""Tool calls in evaluations beyond the suite's own tools (#19): a suite's dataset file and a
saved dataset's file give each case its own tools, tool_choice and checks, which its cells
send and grade; and `python` and `javascript` checks see an answer's tool calls as promptfoo
hands them to assertions (its OpenAI chat provider, promptfoo/promptfoo
src/providers/openai/chat.ts: `message.tool_calls` when the answer has no text, the whole
message when it has both, and the same value as `context.providerResponse.output`). Run
offline on `llmbench/mock`, which calls the tool tool_choice names (else one of the tools
sent) and answers in text when no tool is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, GuardSettings, Settings
from llmbench.core.evaluation.tool_call_output import provider_output
from llmbench.core.models import ToolCall
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.dataset_files import DatasetFileError, ExportRefused, read_dataset_file
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.datasets import export_dataset, import_dataset
from llmbench.services.evaluation.engine import run_eval
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.store.db import Store, open_db

SETTINGS = Settings(gateway=GatewaySettings(max_retries=0), guard=GuardSettings(enabled=False))


def _tool(name: str, argument: str) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": {argument: {"type": "string"}},
        "required": [argument],
    }
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


WEATHER = _tool("get_weather", "city")
TIME = _tool("get_time", "zone")
# Code over the tool calls, promptfoo's way: `output` is OpenAI's tool_calls list.
PYTHON = (
    "calls = [call['function'] for call in output]\n"
    "args = json.loads(calls[0]['arguments'])\n"
    "return {'pass': [c['name'] for c in calls] == [context['vars']['tool']]"
    " and output[0]['type'] == 'function'"
    " and context['providerResponse']['output'] == output"
    " and set(args) == {context['vars']['argument']},"
    " 'score': 1, 'reason': 'called ' + calls[0]['name']}"
)
JAVASCRIPT = (
    "output.length === 1 && output[0].function.name === context.vars.tool"
    " && typeof JSON.parse(output[0].function.arguments)[context.vars.argument] === 'string'"
    " && context.providerResponse.output[0].id === output[0].id"
)
CODE_CHECKS = [{"type": "python", "value": PYTHON}, {"type": "javascript", "value": JAVASCRIPT}]


def _line(question: str, tool: dict[str, Any], argument: str) -> dict[str, Any]:
    name = tool["function"]["name"]
    return {
        "vars": {"question": question, "tool": name, "argument": argument},
        "tools": [tool],
        "tool_choice": "required",
        "checks": [
            {"type": "tool-call", "value": name, "schema": {"required": [argument]}},
            {"type": "tool-call-f1", "value": [name]},
            {"type": "is-valid-openai-tools-call"},
            *CODE_CHECKS,
        ],
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "eval.db") as opened:
        yield opened
    shutdown_sync()


def _suite(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    dataset = tmp_path / "cases.jsonl"
    dataset.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: case tools\n"
        "prompts: [{name: agent, text: '{{ question }}'}]\n"
        "models: [llmbench/mock]\n"
        "dataset: cases.jsonl\n",
        encoding="utf-8",
    )
    return suite


def _checks(store: Store, run_id: int) -> dict[str, list[tuple[str, int | None, str]]]:
    rows = store.read().execute(
        "SELECT json_extract(c.vars, '$.question'), k.kind, k.passed, k.detail"
        " FROM results r JOIN cases c ON c.id = r.case_id JOIN checks k ON k.result_id = r.id"
        " WHERE r.run_id = ? ORDER BY k.id",
        [run_id],
    )
    found: dict[str, list[tuple[str, int | None, str]]] = {}
    for question, kind, passed, detail in rows:
        found.setdefault(question, []).append((kind, passed, detail))
    return found


def test_two_cases_of_a_dataset_file_send_their_own_tools(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("quickjs")
    lines = [
        _line("What is the weather in Paris?", WEATHER, "city"),
        _line("What time is it in Oslo?", TIME, "zone"),
    ]
    prepared = prepare_suite(store, _suite(tmp_path, lines))
    assert sorted(
        params["tools"][0]["function"]["name"] for params in prepared.plan.case_params.values()
    ) == ["get_time", "get_weather"]
    summary = run_eval(store, SETTINGS, prepared.plan)
    assert (summary.finished, summary.errors) == (2, 0)

    # Each cell sent its case's tools, and the model called the one it was given.
    sent = store.read().execute(
        "SELECT json_extract(c.vars, '$.tool'), json_extract(k.params, '$.tools[0].function.name'),"
        " json_extract(r.tool_calls, '$[0].name')"
        " FROM results r JOIN cases c ON c.id = r.case_id JOIN calls k ON k.id = r.call_id"
        " WHERE r.run_id = ?",
        [summary.run_id],
    )
    assert sorted(sent) == [("get_time",) * 3, ("get_weather",) * 3]
    checks = _checks(store, summary.run_id)
    for question in ("What is the weather in Paris?", "What time is it in Oslo?"):
        kinds = [(kind, passed) for kind, passed, _ in checks[question]]
        assert kinds == [
            ("tool-call", 1),
            ("tool-call-f1", 1),
            ("is-valid-openai-tools-call", 1),
            ("python", 1),
            ("javascript", 1),
        ], checks[question]


def test_code_checks_fail_when_the_calls_are_not_what_they_expect(
    store: Store, tmp_path: Path
) -> None:
    pytest.importorskip("quickjs")
    line = _line("What is the weather in Paris?", WEATHER, "city")
    line["vars"]["tool"] = "get_time"  # the code expects another tool than the one called
    line["checks"] = CODE_CHECKS
    summary = run_eval(store, SETTINGS, prepare_suite(store, _suite(tmp_path, [line])).plan)
    (verdicts,) = _checks(store, summary.run_id).values()
    assert [(kind, passed) for kind, passed, _ in verdicts] == [("python", 0), ("javascript", 0)]


def test_an_answer_without_tool_calls_reaches_code_as_its_text(
    store: Store, tmp_path: Path
) -> None:
    line = {
        "vars": {"question": "Say hello"},
        "checks": [
            {
                "type": "python",
                "value": "isinstance(output, str) and output != ''"
                " and context['providerResponse']['output'] == output",
            }
        ],
    }
    summary = run_eval(store, SETTINGS, prepare_suite(store, _suite(tmp_path, [line])).plan)
    (verdicts,) = _checks(store, summary.run_id).values()
    assert [(kind, passed) for kind, passed, _ in verdicts] == [("python", 1)]


def test_text_and_calls_together_are_the_whole_message() -> None:
    call = ToolCall("call_1", "get_time", '{"zone": "CET"}')
    wire = [{"id": "call_1", "type": "function", "function": {"name": "get_time"}}]
    wire[0]["function"]["arguments"] = '{"zone": "CET"}'
    assert provider_output("", (call,)) == wire
    assert provider_output("Checking.", (call,)) == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": wire,
    }
    assert provider_output("Hi", ()) == "Hi"


def test_bad_tools_or_checks_in_a_dataset_line_are_refused_with_their_line(
    store: Store, tmp_path: Path
) -> None:
    lines = [
        {"vars": {"question": "a"}, "tools": [{"type": "function", "function": {}}]},
        {"vars": {"question": "b"}, "tools": [WEATHER], "tool_choice": "sometimes"},
        {"vars": {"question": "c"}, "checks": [{"type": "no-such-check"}]},
        {"question": "d", "tools": "a variable of that name, in a flat line"},
    ]
    with pytest.raises(SuiteError) as error:
        prepare_suite(store, _suite(tmp_path, lines))
    problems = [str(problem) for problem in error.value.problems]
    assert len(problems) == 3, problems
    assert "cases.jsonl:1: tools[0]: the function needs a name" in problems[0]
    assert "cases.jsonl:2: tool_choice must be one of" in problems[1]
    assert "cases.jsonl:3:" in problems[2] and "no-such-check" in problems[2]


def test_a_saved_dataset_keeps_each_cases_tools_and_its_runs_send_them(
    store: Store, tmp_path: Path
) -> None:
    lines = [
        _line("What is the weather in Paris?", WEATHER, "city"),
        _line("What time is it in Oslo?", TIME, "zone"),
    ]
    for line in lines:
        line["checks"] = line["checks"][:3]  # the tool-call checks (no JavaScript engine needed)
    source = tmp_path / "tool-cases.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert import_dataset(store, source).added == 2
    assert import_dataset(store, source).skipped == 2  # the same cases, tools and all

    suite = tmp_path / "saved.yaml"
    suite.write_text(
        "prompts: [{name: agent, text: '{{ question }}'}]\n"
        "models: [llmbench/mock]\n"
        "dataset: tool-cases\n",
        encoding="utf-8",
    )
    summary = run_eval(store, SETTINGS, prepare_suite(store, suite).plan)
    assert (summary.finished, summary.errors) == (2, 0)
    called = store.read().execute(
        "SELECT json_extract(c.vars, '$.tool'), json_extract(r.tool_calls, '$[0].name')"
        " FROM results r JOIN cases c ON c.id = r.case_id WHERE r.run_id = ?",
        [summary.run_id],
    )
    assert sorted(called) == [("get_time", "get_time"), ("get_weather", "get_weather")]
    for verdicts in _checks(store, summary.run_id).values():
        assert [passed for _, passed, _ in verdicts] == [1, 1, 1], verdicts

    # Written back as a line gives them; CSV has no place for them and says so.
    exported = tmp_path / "back.jsonl"
    export_dataset(store, "tool-cases", exported)
    back = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [(line["tools"], line["tool_choice"]) for line in back] == [
        ([WEATHER], "required"),
        ([TIME], "required"),
    ]
    with pytest.raises(ExportRefused, match="sends tools of its own"):
        export_dataset(store, "tool-cases", tmp_path / "back.csv")


def test_bad_tools_in_a_saved_datasets_file_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "saved.jsonl"
    line = {"vars": {"question": "Time in Oslo?"}, "tools": [TIME], "tool_choice": "sometimes"}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(DatasetFileError) as error:
        read_dataset_file(path, "saved.jsonl")
    (problem,) = [str(problem) for problem in error.value.problems]
    assert problem.startswith("saved.jsonl:1: tool_choice must be one of")
