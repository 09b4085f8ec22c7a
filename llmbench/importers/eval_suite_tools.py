"""The tools a suite sends with its requests: `tools` (OpenAI's function tools) and
`tool_choice`, at the top of the suite (every request's), on an inline prompt (saved in its
version's params) and on a test (that case's requests only, over the others).

    tools:
      - type: function
        function:
          name: get_weather
          description: The weather in a city
          parameters: {type: object, properties: {city: {type: string}}, required: [city]}
    tool_choice: auto                  # none, auto, required, or {type: function,
                                       #   function: {name: get_weather}}
    tests:
      - vars: {question: What time is it in Oslo?}
        tools: [{type: function, function: {name: get_time}}]   # this case's own
        checks: [{type: tool-call, value: get_time}]

Both become request params (`tools`, `tool_choice`), which the gateway sends as they are and
checks such as `is-valid-openai-tools-call` read back.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node

from llmbench.core.evaluation.tool_checks import choice_problem, tools_problem
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader

TOOL_KEYS = ("tools", "tool_choice")


def read_tools(reader: NodeReader, fields: dict[str, Node], what: str) -> dict[str, Any]:
    """`tools` and `tool_choice` among a mapping's fields, as request params ({} when neither
    is there); InvalidValue names the bad one."""
    params: dict[str, Any] = {}
    if "tools" in fields:
        tools = reader.json_value(fields["tools"], f"{what}: tools")
        if problem := tools_problem(tools):
            raise InvalidValue(fields["tools"], f"{what}: {problem}")
        params["tools"] = [{"type": "function", **tool} for tool in tools]
    if "tool_choice" in fields:
        choice = reader.json_value(fields["tool_choice"], f"{what}: tool_choice")
        if problem := choice_problem(choice, params.get("tools")):
            raise InvalidValue(fields["tool_choice"], f"{what}: {problem}")
        params["tool_choice"] = choice
    return params
