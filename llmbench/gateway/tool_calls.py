"""The tool calls in an answer, whichever client produced it: litellm's and the OpenAI SDK's
objects, or the JSON of OpenAI's chat completions (https://platform.openai.com/docs/api-reference/chat/object:
`choices[0].message.tool_calls[]` with `id`, `type` and `function.{name, arguments}`), and the
same calls assembled from a stream's deltas (`choices[0].delta.tool_calls[]`, each naming its
`index`; the first delta of a call brings its id and name, later ones pieces of its arguments).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from llmbench.core.models import ToolCall


def _get(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def tool_calls_of(message: Any) -> tuple[ToolCall, ...]:
    """The message's tool calls, in the order the model made them."""
    calls = _get(message, "tool_calls") or ()
    found = []
    for call in calls:
        function = _get(call, "function")
        found.append(
            ToolCall(
                id=str(_get(call, "id") or ""),
                name=str(_get(function, "name") or ""),
                arguments=str(_get(function, "arguments") or ""),
            )
        )
    return tuple(found)


def tool_calls_column(calls: Sequence[ToolCall]) -> str | None:
    """The calls as the audit log keeps them; None for an answer without any."""
    if not calls:
        return None
    return json.dumps([call.as_dict() for call in calls], ensure_ascii=False)


def tool_calls_text(calls: Sequence[ToolCall]) -> str:
    """What the calls say, for an offline count of the tokens they took to write."""
    return "\n".join(f"{call.name}({call.arguments})" for call in calls)


class ToolCallAssembler:
    """A streamed answer's tool calls, put together from its deltas."""

    def __init__(self) -> None:
        self._parts: dict[int, list[str]] = {}  # index -> [id, name, arguments]

    def add(self, deltas: Iterable[Any] | None) -> None:
        for position, delta in enumerate(deltas or ()):
            index = _get(delta, "index")
            parts = self._parts.setdefault(position if index is None else int(index), ["", "", ""])
            call_id = _get(delta, "id")
            if call_id:
                parts[0] = str(call_id)
            function = _get(delta, "function")
            name = _get(function, "name")
            if name:
                parts[1] = str(name)
            arguments = _get(function, "arguments")
            if arguments:
                parts[2] += str(arguments)

    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(id=parts[0], name=parts[1], arguments=parts[2])
            for _, parts in sorted(self._parts.items())
        )
