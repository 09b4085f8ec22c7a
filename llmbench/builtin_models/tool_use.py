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

_MAX_DEPTH = 4


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


def _value(
    schema: Mapping[str, object], rng: random.Random, words: Sequence[str], depth: int
) -> object:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "string")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or depth >= _MAX_DEPTH:
            return {}
        required = schema.get("required")
        names = [n for n in properties if not isinstance(required, list) or n in required]
        return {
            name: _value(properties[name], rng, words, depth + 1)
            if isinstance(properties[name], Mapping)
            else rng.choice(words)
            for name in names or list(properties)
        }
    if kind == "array":
        items = schema.get("items")
        item_schema = items if isinstance(items, Mapping) else {"type": "string"}
        return [_value(item_schema, rng, words, depth + 1) for _ in range(rng.randint(1, 2))]
    if kind == "integer":
        return rng.randint(1, 10)
    if kind == "number":
        return round(rng.uniform(1, 100), 1)
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(words)


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
    arguments = (
        _value(schema, rng, list(words) or ["value"], 0) if isinstance(schema, Mapping) else {}
    )
    return (
        SimulatedToolCall(
            id=f"call_{seed & 0xFFFFFFFFFFFF:012x}",
            name=str(function["name"]),
            arguments=json.dumps(arguments, ensure_ascii=False),
        ),
    )
