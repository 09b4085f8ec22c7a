"""Checks on tool use and structure (#19): what each passes and fails, and the hostile answers
(arguments that are not JSON, a tool never sent, no calls at all) failing with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import run_check
from llmbench.core.evaluation.check_spec import CheckContext, CheckError, CheckResult
from llmbench.core.evaluation.tool_checks import choice_problem, tools_problem
from llmbench.core.models import ToolCall

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time"}}
REQUEST = {"tools": [WEATHER, TIME]}


def _call(name: str, arguments: Any, call_id: str = "call_1") -> ToolCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(call_id, name, text)


def _run(
    check: dict[str, Any],
    calls: tuple[ToolCall, ...] = (),
    *,
    output: str = "",
    request: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> CheckResult:
    context = CheckContext(
        tool_calls=calls,
        request=REQUEST if request is None else request,
        variables=variables or {},
    )
    return run_check(parse_check(check), output, context)


def test_tool_call_by_name_values_and_schema() -> None:
    paris = (_call("get_weather", {"city": "Paris", "days": 2}),)
    assert _run({"type": "tool-call", "value": "get_weather"}, paris).passed
    assert _run({"type": "tool-call"}, paris).passed  # any tool
    missed = _run({"type": "tool-call", "value": "get_time"}, paris)
    assert not missed.passed and "called: get_weather" in missed.detail
    assert _run({"type": "not-tool-call", "value": "get_time"}, paris).passed
    assert _run(
        {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris", "days": 2.0}},
        paris,
    ).passed
    other = _run(
        {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Lyon"}}, paris
    )
    assert not other.passed and '$.city is "Paris", not "Lyon"' in other.detail
    # The case's variables render into the values asked for.
    templated = {"type": "tool-call", "value": "get_weather", "arguments": {"city": "{{ town }}"}}
    assert _run(templated, paris, variables={"town": "Paris"}).passed
    assert not _run(templated, paris, variables={"town": "Oslo"}).passed
    schema = {"type": "object", "properties": {"days": {"maximum": 1}}}
    too_many = _run({"type": "tool-call", "value": "get_weather", "schema": schema}, paris)
    assert not too_many.passed and "$.days" in too_many.detail
    # One of two calls of the tool holding the values is enough.
    two = (_call("get_weather", {"city": "Oslo"}), *paris)
    assert _run({"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris"}}, two)


def test_tool_call_hostile_answers_fail_with_a_reason() -> None:
    broken = (_call("get_weather", '{"city": "Par'),)
    result = _run({"type": "tool-call", "value": "get_weather", "arguments": {"city": "x"}}, broken)
    assert not result.passed and "not JSON" in result.detail
    nothing = _run({"type": "tool-call", "value": "get_weather"}, (), output="It is sunny.")
    assert not nothing.passed and "called: none" in nothing.detail
    listed = _run(
        {"type": "tool-call", "value": "get_weather", "arguments": {"city": "x"}},
        (_call("get_weather", [1, 2]),),
    )
    assert not listed.passed and "not an object" in listed.detail


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"type": "tool-call", "arguments": "city"}, "arguments must be a mapping"),
        ({"type": "tool-call", "schema": {"type": "thing"}}, "type must be"),
        ({"type": "tool-call-f1"}, "expected tool names"),
        ({"type": "tool-call-f1", "value": []}, "at least one"),
        ({"type": "is-valid-openai-tools-call", "value": "x"}, "takes no value"),
        ({"type": "tool-call", "value": "a", "bogus": 1}, "unknown field 'bogus'"),
    ],
)
def test_bad_tool_checks_are_refused_when_read(check: dict[str, Any], message: str) -> None:
    with pytest.raises(CheckError, match=message):
        parse_check(check)


def test_tool_call_f1_as_promptfoo_scores_it() -> None:
    calls = (_call("get_weather", {}), _call("get_time", {}), _call("get_weather", {}, "c2"))
    exact = _run({"type": "tool-call-f1", "value": ["get_weather", "get_time"]}, calls)
    assert exact.passed and exact.score == 1.0
    # expected {a, b, c}, called {get_weather, get_time}: precision 1/2, recall 1/3 -> F1 0.4
    partial = _run({"type": "tool-call-f1", "value": "get_weather, lookup, book"}, calls)
    assert not partial.passed and partial.score == pytest.approx(0.4)
    assert "threshold 1" in partial.detail
    lenient = {"type": "tool-call-f1", "value": "get_weather, lookup, book", "threshold": 0.4}
    assert _run(lenient, calls).passed
    none = _run({"type": "tool-call-f1", "value": "get_weather"}, ())
    assert not none.passed and none.score == 0.0 and "called none" in none.detail
    # An answer recorded as text that is JSON tool calls counts, as in promptfoo.
    text = json.dumps({"tool_calls": [{"function": {"name": "get_time", "arguments": "{}"}}]})
    assert _run({"type": "tool-call-f1", "value": "get_time"}, output=text).passed
    assert not _run({"type": "tool-call-f1", "value": "get_time"}, output="[1, 2").passed


def test_valid_openai_tools_call() -> None:
    check = {"type": "is-valid-openai-tools-call"}
    good = (_call("get_weather", {"city": "Paris"}), _call("get_time", ""))
    assert _run(check, good).passed
    unknown = _run(check, (_call("delete_everything", {}),))
    assert not unknown.passed and "no tool of that name was sent" in unknown.detail
    bad_json = _run(check, (_call("get_weather", "{city: Paris}"),))
    assert not bad_json.passed and "not JSON" in bad_json.detail
    wrong = _run(check, (_call("get_weather", {"days": "two"}),))
    assert not wrong.passed and "city" in wrong.detail
    empty = _run(check, ())
    assert not empty.passed and "no tool calls" in empty.detail
    unsent = _run(check, good, request={})
    assert not unsent.passed and "sent no tools" in unsent.detail
    # A parameters schema the checks cannot enforce fails, never passes unchecked.
    odd = {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"$ref": "#"}}}]}
    assert "cannot check" in _run(check, (_call("f", {}),), request=odd).detail


def test_valid_function_call_legacy_and_from_tools() -> None:
    legacy = {"functions": [WEATHER["function"]]}
    for kind in ("is-valid-openai-function-call", "is-valid-function-call"):
        check = {"type": kind}
        assert _run(check, (_call("get_weather", {"city": "Rome"}),), request=legacy).passed
        assert _run(check, (_call("get_weather", {"city": "Rome"}),)).passed  # from tools
        text = json.dumps({"function_call": {"name": "get_weather", "arguments": "{}"}})
        missing = _run(check, output=text, request=legacy)
        assert not missing.passed and "city" in missing.detail
        two = (_call("get_time", ""), _call("get_time", "", "c2"))
        assert "not one function call" in _run(check, two).detail
        assert not _run(check, output="plain text").passed


def test_matches_response_format() -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    sent = {
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    }
    check = {"type": "matches-response-format"}
    assert _run(check, output='{"answer": "yes"}', request=sent).passed
    wrong = _run(check, output='{"reply": "yes"}', request=sent)
    assert not wrong.passed and "answer" in wrong.detail
    assert "not JSON" in _run(check, output="yes", request=sent).detail
    as_object = {"response_format": {"type": "json_object"}}
    assert _run(check, output="{}", request=as_object).passed
    assert not _run(check, output="[]", request=as_object).passed
    assert "cannot check" in _run(check, output="{}", request={}).detail


def test_what_a_suite_may_send() -> None:
    assert tools_problem([WEATHER, TIME]) is None
    assert "non-empty list" in (tools_problem([]) or "")
    assert "needs a name" in (tools_problem([{"type": "function", "function": {}}]) or "")
    assert "second tool" in (tools_problem([TIME, TIME]) or "")
    assert "type must be function" in (tools_problem([{"type": "web", "function": {}}]) or "")
    assert choice_problem("auto", [WEATHER]) is None
    assert (
        choice_problem({"type": "function", "function": {"name": "get_weather"}}, [WEATHER]) is None
    )
    assert "not one of the tools" in (
        choice_problem({"type": "function", "function": {"name": "x"}}, [WEATHER]) or ""
    )
    assert "must be one of" in (choice_problem("always", [WEATHER]) or "")
