"""promptfoo's tool use converted (#19): a provider's `tools` and `tool_choice` become the
suite's, its tool assertions llmbench's checks of that name; tools it cannot send are listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmbench.importers.promptfoo.config import Conversion, convert_file
from llmbench.importers.promptfoo.suite_writing import check_suite_text, suite_text

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ASSERTIONS = [
    {"type": "is-valid-openai-tools-call"},
    {"type": "tool-call-f1", "value": "get_weather, get_time", "threshold": 0.6},
    {"type": "not-is-valid-openai-function-call"},
    {"type": "is-valid-function-call", "weight": 2},
]


def _convert(folder: Path, config: dict[str, Any]) -> Conversion:
    base = {
        "prompts": ["What is the weather in {{city}}?"],
        "tests": [{"vars": {"city": "Paris"}, "assert": ASSERTIONS}],
    }
    path = folder / "promptfooconfig.yaml"
    path.write_text(yaml.safe_dump({**base, **config}), encoding="utf-8")
    return convert_file(path)


def test_a_providers_tools_and_tool_assertions_convert(tmp_path: Path) -> None:
    provider = {
        "id": "openai:gpt-4o-mini",
        "config": {"temperature": 0, "tools": [WEATHER], "tool_choice": "required"},
    }
    conversion = _convert(tmp_path, {"providers": [provider]})
    suite = conversion.suite
    assert suite["tools"] == [WEATHER] and suite["tool_choice"] == "required"
    assert suite["params"] == {"temperature": 0}
    assert suite["tests"][0]["checks"] == [
        {"type": "is-valid-openai-tools-call"},
        {"type": "tool-call-f1", "value": "get_weather, get_time", "threshold": 0.6},
        {"type": "is-valid-openai-function-call", "negate": True},
        {"type": "is-valid-function-call", "weight": 2},
    ]
    assert not conversion.omitted
    # The suite written reads back as `llmbench eval` reads it: tools and checks valid.
    check_suite_text(suite_text(conversion), tmp_path / "out.eval.yaml")


def test_tools_from_a_file_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text(yaml.safe_dump([WEATHER]), encoding="utf-8")
    provider = {"id": "openai:gpt-4o-mini", "config": {"tools": "file://tools.yaml"}}
    conversion = _convert(tmp_path, {"providers": [provider]})
    assert conversion.suite["tools"] == [WEATHER] and not conversion.omitted


def test_tools_llmbench_cannot_send_are_listed(tmp_path: Path) -> None:
    providers = [
        {"id": "openai:gpt-4o-mini", "config": {"tools": "file://missing.json"}},
        {"id": "openai:gpt-4o", "config": {"tools": [{"type": "function", "function": {}}]}},
        {"id": "openai:gpt-4.1", "config": {"tools": "{{ tools }}"}},
    ]
    conversion = _convert(tmp_path, {"providers": providers})
    assert "tools" not in conversion.suite
    why = {item.where: item.why for item in conversion.omitted if item.what == "tools"}
    assert "cannot read file://missing.json" in why["providers[0].config"]
    assert "needs a name" in why["providers[1].config"]
    assert "named by a variable" in why["providers[2].config"]
