"""Checks on what a model did with the tools and the structure it was sent (issue #19).

A check sees the answer's tool calls (`CheckContext.tool_calls`) and the request's params
(`CheckContext.request`: the `tools`, legacy `functions` and `response_format` sent):

- `tool-call`: the answer called the tool named in `value` (any tool when left out); with
  `arguments`, values its arguments must hold (a mapping, matched key by key, nested mappings
  too); with `schema`, a JSON Schema its arguments must match.
- `tool-call-f1`: promptfoo's: the F1 of the names called against the names expected (`value`:
  a list, or names with commas between them), each a set; passes at `threshold` (1 by default).
- `is-valid-openai-tools-call`: promptfoo's: the answer made tool calls, and each names a tool
  that was sent and its arguments are JSON that match that tool's `parameters`.
- `is-valid-openai-function-call` and `is-valid-function-call`: promptfoo's, for the legacy
  single function call: the answer's call names a function sent (`functions`, else `tools`)
  and its arguments match its parameters.
- `matches-response-format`: the text answer is JSON that matches the `response_format` sent
  (`json_schema`'s schema; any JSON object for `json_object`).

An answer recorded without tool calls is read as promptfoo reads a provider's output: when its
whole text is JSON holding OpenAI tool calls (`{"tool_calls": [...]}`, a list of
`{"function": {...}}` or `{"name", "arguments"}`, or one such call), those are its calls.
Also here: what `tools` and `tool_choice` a suite may send (`tools_problem`, `choice_problem`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llmbench.core.evaluation.check_spec import (
    TOOL_CHECK_KINDS,
    CheckContext,
    CheckError,
    CheckSpec,
    thaw,
)
from llmbench.core.evaluation.check_values import as_number, as_phrases, as_text, type_name
from llmbench.core.evaluation.json_schema import check_schema, schema_errors, schema_value
from llmbench.core.models import ToolCall

TOOL_CHECK_OPTIONS: dict[str, frozenset[str]] = {
    "tool-call": frozenset({"arguments", "schema"}),
    **{kind: frozenset() for kind in TOOL_CHECK_KINDS[1:]},
}
DEFAULT_F1_THRESHOLD = 1.0  # promptfoo's
TOOL_CHOICES = ("none", "auto", "required")

Verdict = tuple[bool, float, str]


def validate_tool_check(spec: CheckSpec, prefix: str) -> None:
    """CheckError when a tool check's spec could not run."""
    if spec.kind == "tool-call":
        if spec.value is not None:
            as_text(spec.value, prefix)
        arguments = spec.options.get("arguments")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise CheckError(
                f"{prefix}arguments must be a mapping of the values the call's arguments hold,"
                f" got {type_name(arguments)}"
            )
        if "schema" in spec.options:
            check_schema(schema_value(spec.options["schema"], prefix), prefix=prefix)
    elif spec.kind == "tool-call-f1":
        if spec.value is None:
            raise CheckError(f"{prefix}needs the expected tool names as its value")
        _expected_names(spec.value, prefix)
    elif spec.value is not None:
        raise CheckError(f"{prefix}takes no value (it reads what the request sent)")


def _expected_names(value: object, prefix: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in as_phrases(value, prefix)))
    if not all(names):
        raise CheckError(f"{prefix}a tool name is empty")
    return names


# -- the answer's calls and what was sent -----------------------------------------------------


def answer_calls(output: str, context: CheckContext) -> tuple[ToolCall, ...]:
    """The calls the answer made: recorded ones, else those its text holds as JSON."""
    if context.tool_calls:
        return tuple(context.tool_calls)
    text = output.strip() if isinstance(output, str) else ""
    if not text or text[0] not in "[{":
        return ()
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    if isinstance(parsed, dict) and isinstance(parsed.get("tool_calls"), list):
        parsed = parsed["tool_calls"]
    elif isinstance(parsed, dict) and isinstance(parsed.get("function_call"), dict):
        parsed = [parsed["function_call"]]
    items = parsed if isinstance(parsed, list) else [parsed]
    calls = []
    for item in items:
        function = item.get("function", item) if isinstance(item, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return ()  # not a list of calls: the text is an answer of its own
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        calls.append(ToolCall(str(item.get("id") or ""), function["name"], arguments))
    return tuple(calls)


def sent_functions(request: Mapping[str, object], *, legacy_first: bool) -> list[Mapping[str, Any]]:
    """The functions the request sent, as {name, parameters}: its `tools`' functions and its
    legacy `functions` (those first when `legacy_first`)."""
    tools = request.get("tools")
    from_tools = [
        tool["function"]
        for tool in (tools if isinstance(tools, Sequence) and not isinstance(tools, str) else ())
        if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping)
    ]
    legacy = request.get("functions")
    from_legacy = [
        function
        for function in (
            legacy if isinstance(legacy, Sequence) and not isinstance(legacy, str) else ()
        )
        if isinstance(function, Mapping)
    ]
    return from_legacy + from_tools if legacy_first else from_tools + from_legacy


def _arguments(call: ToolCall) -> tuple[object] | str:
    """(the parsed arguments,) or why they are not JSON (an empty text is no arguments)."""
    if not call.arguments.strip():
        return ({},)
    try:
        return (json.loads(call.arguments),)
    except RecursionError:
        return f"{call.name}'s arguments are nested too deeply"
    except ValueError as error:
        return f"{call.name}'s arguments are not JSON: {error.args[0] if error.args else error}"


def _schema_problem(value: object, schema: object, what: str) -> str | None:
    """Why value breaks schema (None when it matches); a schema outside what the checks
    enforce is a problem too, never a silent pass."""
    try:
        check_schema(schema)
    except CheckError as error:
        return f"cannot check {what}: {error}"
    try:
        errors = schema_errors(value, schema)
    except RecursionError:
        return f"{what}: nested too deeply to validate"
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{what} do not match: {errors[0]}{more}"


def call_problem(call: ToolCall, functions: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a call is not a valid call of one of the functions sent (promptfoo's
    validateFunctionCall); None when it is."""
    function = next((f for f in functions if f.get("name") == call.name), None)
    if function is None:
        sent = ", ".join(str(f.get("name")) for f in functions) or "none"
        return f"called {call.name!r}, but no tool of that name was sent (sent: {sent})"
    arguments = _arguments(call)
    if isinstance(arguments, str):
        return arguments
    schema = function.get("parameters")
    if schema is None:
        return None
    return _schema_problem(arguments[0], thaw(schema), f"{call.name}'s arguments")


# -- the checks ----------------------------------------------------------------------------------


def _binary(passed: bool, detail: str) -> Verdict:
    return passed, float(passed), detail


def _names(calls: Sequence[ToolCall]) -> str:
    return ", ".join(dict.fromkeys(call.name for call in calls)) or "none"


def _tool_call(spec: CheckSpec, output: str, context: CheckContext) -> Verdict:
    calls = answer_calls(output, context)
    name = None if spec.value is None else as_text(spec.value, "")
    named = [call for call in calls if name is None or call.name == name]
    if not named:
        wanted = "no tool call" if name is None else f"no call to {name!r}"
        return _binary(False, f"{wanted} (called: {_names(calls)})")
    wanted_values = spec.options.get("arguments")
    schema = spec.options.get("schema")
    if wanted_values is None and schema is None:
        return _binary(True, f"called {named[0].name!r}")
    problem = ""
    for call in named:  # any call of the tool with the arguments asked for passes
        arguments = _arguments(call)
        if isinstance(arguments, str):
            problem = arguments
            continue
        if isinstance(wanted_values, Mapping):
            missing = _missing_values(arguments[0], thaw(wanted_values), "$")
            if missing:
                problem = f"{call.name}'s arguments: {missing}"
                continue
        if schema is not None:
            found = _schema_problem(
                arguments[0], schema_value(thaw(schema), ""), f"{call.name}'s arguments"
            )
            if found:
                problem = found
                continue
        return _binary(True, f"called {call.name!r} with the arguments asked for")
    return _binary(False, problem)


def _missing_values(actual: object, wanted: object, path: str) -> str | None:
    """Where actual does not hold wanted: mappings key by key (extra keys allowed), anything
    else equal (1 and 1.0 alike)."""
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return f"{path} is not an object"
        for key, value in wanted.items():
            if key not in actual:
                return f"{path}.{key} is missing"
            found = _missing_values(actual[key], value, f"{path}.{key}")
            if found:
                return found
        return None
    if json.dumps(actual, sort_keys=True) == json.dumps(wanted, sort_keys=True) or (
        _is_number(actual) and _is_number(wanted) and actual == wanted
    ):
        return None
    return f"{path} is {json.dumps(actual)}, not {json.dumps(wanted)}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tool_call_f1(spec: CheckSpec, output: str, context: CheckContext) -> Verdict:
    expected = set(_expected_names(spec.value, ""))
    actual = {call.name for call in answer_calls(output, context)}
    both = len(expected & actual)
    precision = both / len(actual) if actual else 0.0
    recall = both / len(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    threshold = (
        as_number(spec.threshold, "threshold", "")
        if spec.threshold is not None
        else DEFAULT_F1_THRESHOLD
    )
    detail = (
        f"F1 {f1:.3f} (precision {precision:.3f}, recall {recall:.3f}; threshold {threshold:g});"
        f" expected {', '.join(sorted(expected))}; called {', '.join(sorted(actual)) or 'none'}"
    )
    return f1 >= threshold, f1, detail


def _valid_tools_call(spec: CheckSpec, output: str, context: CheckContext) -> Verdict:
    calls = answer_calls(output, context)
    if not calls:
        return _binary(False, "the answer made no tool calls")
    functions = sent_functions(context.request, legacy_first=False)
    if not functions:
        return _binary(False, "cannot check: the request sent no tools")
    for call in calls:
        problem = call_problem(call, functions)
        if problem:
            return _binary(False, problem)
    count = len(calls)
    return _binary(True, f"{count} valid tool call{'s' if count != 1 else ''}: {_names(calls)}")


def _valid_function_call(spec: CheckSpec, output: str, context: CheckContext) -> Verdict:
    calls = answer_calls(output, context)
    if not calls:
        return _binary(False, "the answer made no function call")
    if len(calls) > 1:
        return _binary(False, f"the answer made {len(calls)} calls, not one function call")
    functions = sent_functions(context.request, legacy_first=True)
    if not functions:
        return _binary(False, "cannot check: the request sent no functions or tools")
    problem = call_problem(calls[0], functions)
    return _binary(problem is None, problem or f"a valid call of {calls[0].name!r}")


def _response_format(spec: CheckSpec, output: str, context: CheckContext) -> Verdict:
    sent = context.request.get("response_format")
    kind = sent.get("type") if isinstance(sent, Mapping) else None
    if kind not in ("json_schema", "json_object"):
        return _binary(False, "cannot check: the request sent no JSON response_format")
    try:
        parsed = json.loads(output)
    except RecursionError:
        return _binary(False, "the answer is nested too deeply")
    except ValueError as error:
        return _binary(False, f"the answer is not JSON: {error.args[0] if error.args else ''}")
    if kind == "json_object":
        is_object = isinstance(parsed, dict)
        return _binary(is_object, "a JSON object" if is_object else "JSON, but not an object")
    assert isinstance(sent, Mapping)
    declared = sent.get("json_schema")
    schema = declared.get("schema") if isinstance(declared, Mapping) else None
    if not isinstance(schema, Mapping):
        return _binary(False, "cannot check: response_format's json_schema has no schema")
    name = declared.get("name") if isinstance(declared, Mapping) else None
    problem = _schema_problem(parsed, thaw(schema), "the answer's fields")
    if problem:
        return _binary(False, problem)
    return _binary(True, f"matches the response format{f' {name!r}' if name else ''}")


TOOL_EVALUATORS = {
    "tool-call": _tool_call,
    "tool-call-f1": _tool_call_f1,
    "is-valid-openai-tools-call": _valid_tools_call,
    "is-valid-openai-function-call": _valid_function_call,
    "is-valid-function-call": _valid_function_call,
    "matches-response-format": _response_format,
}


# -- what a suite may send ----------------------------------------------------------------------


def tools_problem(tools: object) -> str | None:
    """Why `tools` is not a list of OpenAI function tools ({"type": "function", "function":
    {"name", "description"?, "parameters"?}}); None when it is."""
    if not isinstance(tools, list) or not tools:
        return "tools must be a non-empty list of function tools"
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            return f"{where} must be a mapping ({{type: function, function: {{name: ...}}}})"
        if tool.get("type", "function") != "function":
            return f"{where}: type must be function, not {tool.get('type')!r}"
        function = tool.get("function")
        if not isinstance(function, dict):
            return f"{where} needs a function mapping with its name"
        name = function.get("name")
        if not isinstance(name, str) or not name.strip():
            return f"{where}: the function needs a name"
        if name in seen:
            return f"{where}: a second tool named {name!r}"
        seen.add(name)
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            return f"{where}: parameters must be a JSON Schema object"
    return None


def choice_problem(choice: object, tools: object) -> str | None:
    """Why `tool_choice` is not one OpenAI takes for these tools; None when it is."""
    if isinstance(choice, str):
        if choice in TOOL_CHOICES:
            return None
        return f"tool_choice must be one of {', '.join(TOOL_CHOICES)} or a function, not {choice!r}"
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):
        return "tool_choice names a function as {type: function, function: {name: ...}}"
    names = [
        tool["function"].get("name")
        for tool in (tools if isinstance(tools, list) else [])
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
    ]
    if isinstance(tools, list) and name not in names:
        return f"tool_choice names {name!r}, which is not one of the tools"
    return None
