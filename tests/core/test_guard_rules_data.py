"""The shipped prompt-injection rule file: it parses, the guard runs exactly what it says, and
each rule, read from it, catches its own example through the input guard."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest

from llmbench.core.guard.injection_rules import (
    DATA_FILE,
    RULES,
    RuleFileError,
    load_rules,
    shipped_rules_text,
)
from llmbench.core.guard.input_guard import scan_text

SHIPPED = load_rules(shipped_rules_text())


def test_the_file_ships_inside_the_package_and_parses() -> None:
    assert resources.files("llmbench.core.guard").joinpath(DATA_FILE).is_file()
    data = tomllib.loads(shipped_rules_text())
    assert len(data["rules"]) == len(SHIPPED) > 0


def test_the_guard_runs_the_shipped_rules() -> None:
    assert SHIPPED == RULES


def test_rule_ids_are_unique_and_named_for_their_kind() -> None:
    ids = [rule.id for rule in SHIPPED]
    assert len(set(ids)) == len(ids)
    assert all(rule.id.startswith(f"{rule.kind}.") for rule in SHIPPED)
    assert all(0 < rule.weight < 1 and rule.triggers for rule in SHIPPED)


@pytest.mark.parametrize("rule", SHIPPED, ids=[rule.id for rule in SHIPPED])
def test_each_shipped_rule_catches_its_example_through_the_guard(rule) -> None:
    report = scan_text(rule.example)
    found = [finding for finding in report.findings if finding.rule == rule.id]
    assert found, f"{rule.id} missed its own example {rule.example!r}"
    assert all(f.kind == rule.kind and f.score == rule.weight for f in found)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [text for item in value for text in _strings(item)] if isinstance(value, list) else []


def test_every_fragment_and_trigger_list_is_used() -> None:
    data = tomllib.loads(shipped_rules_text())
    regexes = [
        text
        for rule in data["rules"]
        for text in _strings(rule.get("pattern", [])) + _strings(rule.get("options", []))
    ]
    referenced = {name for text in regexes for name in re.findall(r"\$\{(\w+)\}", text)}
    assert referenced == set(data["fragments"])
    shared = {rule["triggers"] for rule in data["rules"] if isinstance(rule["triggers"], str)}
    assert shared == set(data["triggers"])
    assert not any("${" in rule.pattern for rule in SHIPPED)


_RULE = """
[[rules]]
id = "override.x"
kind = "override"
weight = 0.5
triggers = ["x"]
example = "x"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_RULE + "pattern = '${nowhere}'\n", "no fragment named 'nowhere'"),
        (_RULE + "pattern = 'x'\noptions = ['x']\n", "one of pattern or options"),
        (_RULE + "pattern = 'x'\nwieght = 0.5\n", "unknown fields wieght"),
        (_RULE.replace('["x"]', '"shared"') + "pattern = 'x'\n", "no trigger list named"),
        ("rules = [", "injection_rules.toml"),
    ],
)
def test_a_broken_rule_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(RuleFileError, match=re.escape(message)):
        load_rules(text)


def test_fragments_options_and_pieces_expand_to_one_pattern() -> None:
    text = (
        "[fragments.verb]\noptions = ['ignore', ['dis', 'regard']]\n"
        + _RULE
        + "pattern = ['\\b${verb} ', 'all\\b']\n"
    )
    (rule,) = load_rules(text)
    assert rule.pattern == r"\b(?:ignore|disregard) all\b"
