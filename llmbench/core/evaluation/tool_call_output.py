"""What code sees as the output of an answer that called tools: promptfoo's OpenAI chat provider
(promptfoo/promptfoo, src/providers/openai/chat.ts, `callApi`) gives assertions

- the message's text when it called no tool;
- `message.tool_calls` itself when it called tools and wrote no text (content null, absent or
  ""): a list of OpenAI's tool calls, `{id, type: "function", function: {name, arguments}}`,
  the arguments as the model wrote them (JSON text);
- the whole message `{role: "assistant", content, tool_calls}` when it did both;

and the same value as `context.providerResponse.output`. A `python` check gets it as Python
lists and dicts, a `javascript` check as arrays and objects, as promptfoo passes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmbench.core.models import ToolCall


def openai_tool_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """The calls in OpenAI's message form."""
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


def provider_output(text: str, calls: Sequence[ToolCall]) -> object:
    """The output promptfoo hands checks for an answer of `text` and `calls`."""
    if not calls:
        return text
    if not text:
        return openai_tool_calls(calls)
    return {"role": "assistant", "content": text, "tool_calls": openai_tool_calls(calls)}
