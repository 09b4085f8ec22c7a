"""What a request's tool definitions, forced tool and response schema add to its prompt, as
text to count: OpenAI renders function definitions into the prompt as TypeScript-like
declarations in a `functions` namespace, and bills them as prompt tokens.

The rendering and the overheads are those of hmarr/openai-chat-tokens (src/functions.ts and
src/index.ts, MIT), whose expected counts were checked against the API's `prompt_tokens`
(gpt-3.5-turbo, cl100k_base); LangChain.js and litellm's token counter render the same text,
and forestwanglin/openai-java applies the same overheads to `tools` and `tool_choice`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# hmarr/openai-chat-tokens src/index.ts: the definitions carry 9 tokens of their own; when the
# request has a system message they are put in it, which saves 4 of them, and the first system
# message gains a trailing newline.
DEFINITIONS_OVERHEAD = 9
SYSTEM_MESSAGE_SAVING = 4
SYSTEM_PADDING = "\n"
# A forced call (function_call / tool_choice naming a function): 4 tokens and the name's; "none"
# is 1 token; "auto" (and an absent choice) nothing. "required" has no published figure: nothing.
FORCED_FUNCTION_TOKENS = 4
NO_FUNCTION_TOKENS = 1
# Property descriptions are rendered down to this nesting depth (hmarr's `indent < 2`).
DESCRIBED_INDENT = 2


def function_definitions(params: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """The functions a request declares: `tools` of type function, in chat completions' shape
    (`{"type": "function", "function": {...}}`) or the Responses API's flat one, and the older
    `functions`. Other tools (a provider's built-in search, say) are not rendered as functions."""
    found: list[Mapping[str, Any]] = []
    tools = params.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function", tool)
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found.append(function)
    functions = params.get("functions")
    for function in functions if isinstance(functions, list) else ():
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found.append(function)
    return tuple(found)


def render_functions(definitions: Iterable[Mapping[str, Any]]) -> str:
    """The definitions as the model reads them: `namespace functions { ... }`."""
    lines = ["namespace functions {", ""]
    for function in definitions:
        description = function.get("description")
        if description:
            lines.append(f"// {description}")
        parameters = function.get("parameters")
        parameters = parameters if isinstance(parameters, Mapping) else {}
        properties = parameters.get("properties")
        if isinstance(properties, Mapping) and properties:
            lines.append(f"type {function['name']} = (_: {{")
            lines.append(_properties(parameters, 0))
            lines.append("}) => any;")
        else:
            lines.append(f"type {function['name']} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _properties(schema: Mapping[str, Any], indent: int) -> str:
    properties = schema.get("properties")
    required = schema.get("required")
    required = required if isinstance(required, list) else []
    lines: list[str] = []
    for name, prop in (properties if isinstance(properties, Mapping) else {}).items():
        prop = prop if isinstance(prop, Mapping) else {}
        if prop.get("description") and indent < DESCRIBED_INDENT:
            lines.append(f"// {prop['description']}")
        optional = "" if name in required else "?"
        lines.append(f"{name}{optional}: {_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def _type(prop: Mapping[str, Any], indent: int) -> str:
    if isinstance(prop.get("anyOf"), list):
        return " | ".join(_type(p if isinstance(p, Mapping) else {}, indent) for p in prop["anyOf"])
    kind = prop.get("type")
    if isinstance(kind, list):  # JSON Schema's ["string", "null"]: anyOf by another name
        return " | ".join(_type({**prop, "type": each}, indent) for each in kind)
    enum = prop.get("enum")
    if kind == "string":
        return " | ".join(f'"{v}"' for v in enum) if isinstance(enum, list) else "string"
    if kind in ("number", "integer"):
        return " | ".join(f"{v}" for v in enum) if isinstance(enum, list) else "number"
    if kind in ("boolean", "null"):
        return str(kind)
    if kind == "object":
        return "\n".join(("{", _properties(prop, indent + 2), "}"))
    if kind == "array":
        items = prop.get("items")
        return f"{_type(items, indent)}[]" if isinstance(items, Mapping) else "any[]"
    return "any"  # no type given: the model reads `any` (litellm's counter does the same)


def forced_function(params: Mapping[str, Any]) -> str | None:
    """The function a request forces: `function_call: {"name": ...}` or a `tool_choice` naming
    one, in chat completions' or the Responses API's shape; None for any other choice."""
    for choice in (params.get("tool_choice"), params.get("function_call")):
        if isinstance(choice, Mapping):
            named = choice.get("function", choice)
            if isinstance(named, Mapping) and isinstance(named.get("name"), str):
                return str(named["name"])
    return None


def forbids_calls(params: Mapping[str, Any]) -> bool:
    """Whether the request says "none" (`tool_choice` or `function_call`)."""
    return "none" in (params.get("tool_choice"), params.get("function_call"))


def response_schema(params: Mapping[str, Any]) -> str:
    """A `response_format` JSON schema as compact JSON text ("" when none is sent). OpenAI puts
    it in the prompt too, but no rendering of it has been published or checked against the
    API: its JSON text is counted, an estimate."""
    response_format = params.get("response_format")
    if not isinstance(response_format, Mapping):
        return ""
    schema = response_format.get("json_schema")
    if not isinstance(schema, Mapping):
        return ""
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
