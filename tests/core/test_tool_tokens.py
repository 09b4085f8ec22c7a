"""Prompt tokens of a request's tool definitions, forced tool and response schema.

The expected counts of the first tests are the API's own `prompt_tokens` for gpt-3.5-turbo, as
hmarr/openai-chat-tokens records them in tests/token-counts.test.ts (its `validate` test sends
each request to OpenAI and compares): the offline count must equal what OpenAI billed.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmbench.core.tokens import count_message_tokens, count_tokens
from llmbench.core.tool_prompt import render_functions

MODEL = "gpt-3.5-turbo"
HELLO = [{"role": "user", "content": "hello"}]


def _function(name: str, description: str | None = None, **properties: Any) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": name,
        "parameters": {"type": "object", "properties": properties},
    }
    if description:
        function["description"] = description
    return function


RECIPE = {
    "name": "get_recipe",
    "parameters": {
        "type": "object",
        "required": ["ingredients", "instructions", "time_to_cook"],
        "properties": {
            "ingredients": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "unit", "amount"],
                    "properties": {
                        "name": {"type": "string"},
                        "unit": {
                            "enum": ["grams", "ml", "cups", "pieces", "teaspoons"],
                            "type": "string",
                        },
                        "amount": {"type": "number"},
                    },
                },
            },
            "instructions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Steps to prepare the recipe (no numbering)",
            },
            "time_to_cook": {
                "type": "number",
                "description": "Total time to prepare the recipe in minutes",
            },
        },
    },
}

# (messages, function definitions, prompt_tokens OpenAI reported)
API_COUNTS: list[tuple[list[dict[str, str]], list[dict[str, Any]], int]] = [
    (HELLO, [_function("foo")], 31),
    (HELLO, [_function("foo", "Do a foo")], 36),
    (HELLO, [_function("bing_bong", "Do a bing bong", foo={"type": "string"})], 49),
    (
        HELLO,
        [
            _function(
                "bing_bong",
                "Do a bing bong",
                foo={"type": "string"},
                bar={"type": "number", "description": "A number"},
            )
        ],
        57,
    ),
    (
        HELLO,
        [
            _function(
                "bing_bong",
                "Do a bing bong",
                foo={
                    "type": "object",
                    "properties": {
                        "bar": {"type": "string", "enum": ["a", "b", "c"]},
                        "baz": {"type": "boolean"},
                    },
                },
            )
        ],
        68,
    ),
    (
        [{"role": "system", "content": "Hello"}, {"role": "user", "content": "Hi there"}],
        [_function("do_stuff")],
        35,
    ),
    (
        [{"role": "system", "content": "Hello:"}, {"role": "user", "content": "Hi there"}],
        [_function("do_stuff")],
        35,
    ),
    (
        [
            {"role": "system", "content": "Hello:"},
            {"role": "system", "content": "Hello"},
            {"role": "user", "content": "Hi there"},
        ],
        [_function("do_stuff")],
        40,
    ),
    (HELLO, [RECIPE], 106),
]


@pytest.mark.parametrize(("messages", "functions", "billed"), API_COUNTS)
def test_tools_count_as_openai_billed_them(
    messages: list[dict[str, str]], functions: list[dict[str, Any]], billed: int
) -> None:
    tools = [{"type": "function", "function": function} for function in functions]
    assert count_message_tokens(messages, MODEL, {"tools": tools}) == billed
    # The older `functions` parameter is rendered the same way.
    assert count_message_tokens(messages, MODEL, {"functions": functions}) == billed


@pytest.mark.parametrize(
    ("messages", "billed"),
    [
        (HELLO, 8),
        ([{"role": "system", "content": "hello:"}], 9),
        (
            [
                {"role": "system", "content": "# Important: you're the best robot"},
                {"role": "user", "content": "hello robot"},
                {"role": "assistant", "content": "hello world"},
            ],
            27,
        ),
    ],
)
def test_without_tools_the_count_is_unchanged(messages: list[dict[str, str]], billed: int) -> None:
    assert count_message_tokens(messages, MODEL) == billed
    assert count_message_tokens(messages, MODEL, {"temperature": 0, "tools": []}) == billed


def test_the_definitions_render_as_typescript_declarations() -> None:
    """Descriptions of nested properties are left out (hmarr's `indent < 2`), integers read as
    numbers, a list of types and anyOf as unions, a property without a type as `any`."""
    nested = _function(
        "bing_bong",
        "Do a bing bong",
        foo={
            "type": "object",
            "description": "Shown",
            "properties": {
                "bar": {"type": "string", "enum": ["a", "b"], "description": "Not shown"},
                "baz": {"type": "object", "properties": {"deep": {"type": "integer"}}},
            },
        },
        when={"type": ["string", "null"]},
        either={"anyOf": [{"type": "number", "enum": [1, 2]}, {"type": "boolean"}]},
        anything={},
    )
    nested["parameters"]["required"] = ["foo"]
    assert render_functions([nested, _function("ping")]) == "\n".join(
        [
            "namespace functions {",
            "",
            "// Do a bing bong",
            "type bing_bong = (_: {",
            "// Shown",
            "foo: {",
            '  bar?: "a" | "b",',
            "  baz?: {",
            "    deep?: number,",
            "},",  # closing braces unindented, as hmarr's formatter writes them
            "},",
            "when?: string | null,",
            "either?: 1 | 2 | boolean,",
            "anything?: any,",
            "}) => any;",
            "",
            "type ping = () => any;",
            "",
            "} // namespace functions",
        ]
    )


def test_a_forced_tool_adds_its_name_and_none_adds_one() -> None:
    tools = [{"type": "function", "function": _function("foo")}]
    base = count_message_tokens(HELLO, MODEL, {"tools": tools})
    assert count_message_tokens(HELLO, MODEL, {"tools": tools, "tool_choice": "auto"}) == base
    assert count_message_tokens(HELLO, MODEL, {"tools": tools, "tool_choice": "none"}) == base + 1
    named = {"type": "function", "function": {"name": "get_current_weather"}}
    forced = count_message_tokens(HELLO, MODEL, {"tools": tools, "tool_choice": named})
    assert forced == base + 4 + count_tokens("get_current_weather", MODEL) == base + 4 + 3
    legacy = {"functions": [_function("foo")], "function_call": {"name": "get_current_weather"}}
    assert count_message_tokens(HELLO, MODEL, legacy) == forced


def test_the_responses_apis_flat_tools_count_and_built_in_tools_do_not() -> None:
    flat = [{"type": "function", **_function("foo", "Do a foo")}]
    assert count_message_tokens(HELLO, MODEL, {"tools": flat}) == 36
    built_in = [{"type": "web_search_preview"}]
    assert count_message_tokens(HELLO, MODEL, {"tools": built_in}) == 8


def test_a_response_schema_counts_as_its_json_text() -> None:
    schema = {
        "name": "answer",
        "strict": True,
        "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    params = {"response_format": {"type": "json_schema", "json_schema": schema}}
    text = (
        '{"name":"answer","strict":true,'
        '"schema":{"type":"object","properties":{"city":{"type":"string"}}}}'
    )
    assert count_message_tokens(HELLO, MODEL, params) == 8 + count_tokens(text, MODEL)
    assert count_message_tokens(HELLO, MODEL, {"response_format": {"type": "json_object"}}) == 8


def test_o200k_models_count_the_same_text_with_their_encoding() -> None:
    tools = [{"type": "function", "function": RECIPE}]
    rendered = render_functions([RECIPE])
    # 8 for the message and the reply's priming, 9 for the definitions' framing.
    assert count_message_tokens(HELLO, "gpt-4o", {"tools": tools}) == (
        8 + count_tokens(rendered, "gpt-4o") + 9
    )
