"""When `llmbench/mock` calls a tool, and with what: deterministic tool use, so suites with
tool-call checks run offline.

A request that sends `tools` (OpenAI's form: `{"type": "function", "function": {"name",
"parameters"}}`) and has not just sent tool results back gets tool calls instead of text:
the tool `tool_choice` names, else one picked by the request's seed; its arguments follow the
tool's JSON schema, strings taken from the question's keywords. Once the last message is a
tool result (role "tool"), the mock answers in text, as a model closing a tool loop does.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmbench.builtin_models.schema_values import value_from_schema


@dataclass(frozen=True)
class SimulatedToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as a model writes it


def _functions(params: Mapping[str, object]) -> list[Mapping[str, object]]:
    tools = params.get("tools")
    if not isinstance(tools, list):
        return []
    found = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found.append(function)
    return found


def _chosen(
    functions: Sequence[Mapping[str, object]], choice: object, rng: random.Random
) -> Mapping[str, object] | None:
    if choice == "none":
        return None
    if isinstance(choice, Mapping):
        wanted = choice.get("function")
        name = wanted.get("name") if isinstance(wanted, Mapping) else None
        return next((f for f in functions if f.get("name") == name), None)
    return rng.choice(list(functions))


def planned_tool_calls(
    messages: Sequence[Mapping[str, object]],
    params: Mapping[str, object],
    seed: int,
    words: Sequence[str],
) -> tuple[SimulatedToolCall, ...]:
    """The tool calls the mock answers with (none: it answers in text)."""
    functions = _functions(params)
    if not functions or (messages and messages[-1].get("role") == "tool"):
        return ()
    rng = random.Random(seed ^ 0x7001)
    function = _chosen(functions, params.get("tool_choice"), rng)
    if function is None:
        return ()
    schema = function.get("parameters")
    pool = list(words) or ["value"]
    arguments = (
        value_from_schema(schema, rng, lambda: rng.choice(pool), required_only=True)
        if isinstance(schema, Mapping)
        else {}
    )
    return (
        SimulatedToolCall(
            id=f"call_{seed & 0xFFFFFFFFFFFF:012x}",
            name=str(function["name"]),
            arguments=json.dumps(arguments, ensure_ascii=False),
        ),
    )
