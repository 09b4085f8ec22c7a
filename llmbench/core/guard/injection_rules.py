"""The prompt-injection rules of the input guard: read from the data file shipped beside this
module (injection_rules.toml, which explains the rules, their weights and triggers) and
compiled for the folded text the guard scans.

The file holds named regular-expression fragments, named trigger lists and the rules, each rule
a `pattern` (or `options`, alternatives joined as "(?:a|b)") in which `${name}` stands for a
fragment's text. Reading it expands the fragments, so a Rule holds the final pattern.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "injection_rules.toml"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    weight: float
    triggers: tuple[str, ...]
    pattern: str
    example: str


class RuleFileError(ValueError):
    """The rule file cannot be read; the message names the rule or fragment and the field."""


_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_RULE_FIELDS = frozenset({"id", "kind", "weight", "triggers", "pattern", "options", "example"})
_FILE_FIELDS = frozenset({"triggers", "fragments", "rules"})


def shipped_rules_text() -> str:
    """The text of the rule file in the installed package."""
    return resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")


def load_rules(text: str) -> tuple[Rule, ...]:
    """The rules of a rule file's text, in the file's order, fragments expanded."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(f"{DATA_FILE}: {error}") from error
    unknown = set(data) - _FILE_FIELDS
    if unknown:
        raise RuleFileError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    trigger_lists = {
        name: _strings(value, f"triggers.{name}")
        for name, value in _table(data.get("triggers", {}), "triggers").items()
    }
    fragments = {
        name: _regex(_table(value, f"fragments.{name}"), f"fragments.{name}")
        for name, value in _table(data.get("fragments", {}), "fragments").items()
    }
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise RuleFileError("rules: an array of [[rules]] tables")
    return tuple(
        _rule(_table(entry, f"rules[{index}]"), index, trigger_lists, fragments)
        for index, entry in enumerate(entries)
    )


def _rule(
    entry: Mapping[str, object],
    index: int,
    trigger_lists: Mapping[str, tuple[str, ...]],
    fragments: Mapping[str, str],
) -> Rule:
    where = f"rule {entry.get('id', index)!r}"
    unknown = set(entry) - _RULE_FIELDS
    if unknown:
        raise RuleFileError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    triggers = entry.get("triggers")
    if isinstance(triggers, str):
        if triggers not in trigger_lists:
            raise RuleFileError(f"{where}: no trigger list named {triggers!r} in [triggers]")
        trigger_tuple = trigger_lists[triggers]
    else:
        trigger_tuple = _strings(triggers, f"{where}: triggers")
    if not trigger_tuple:
        raise RuleFileError(f"{where}: triggers: at least one")
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise RuleFileError(f"{where}: weight: a number, not {weight!r}")
    return Rule(
        id=_string(entry.get("id"), f"{where}: id"),
        kind=_string(entry.get("kind"), f"{where}: kind"),
        weight=float(weight),
        triggers=trigger_tuple,
        pattern=_expand(_regex(entry, where), fragments, where),
        example=_string(entry.get("example"), f"{where}: example"),
    )


def _regex(entry: Mapping[str, object], where: str) -> str:
    """The regular expression of a rule or fragment: its pattern, or its options as one
    alternation; a list of strings in either place is their concatenation."""
    if ("pattern" in entry) == ("options" in entry):
        raise RuleFileError(f"{where}: one of pattern or options")
    if "pattern" in entry:
        return _text(entry["pattern"], f"{where}: pattern")
    options = entry["options"]
    if not isinstance(options, list) or not options:
        raise RuleFileError(f"{where}: options: a non-empty list")
    return "(?:" + "|".join(_text(option, f"{where}: options") for option in options) + ")"


def _expand(pattern: str, fragments: Mapping[str, str], where: str) -> str:
    def fragment(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fragments:
            raise RuleFileError(f"{where}: no fragment named {name!r} in [fragments]")
        return fragments[name]

    return _PLACEHOLDER.sub(fragment, pattern)


def _text(value: object, where: str) -> str:
    if isinstance(value, list) and value and all(isinstance(piece, str) for piece in value):
        return "".join(value)
    return _string(value, where)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleFileError(f"{where}: a non-empty string, not {value!r}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RuleFileError(f"{where}: a list of strings, not {value!r}")
    return tuple(_string(item, where) for item in value)


def _table(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise RuleFileError(f"{where}: a table, not {type(value).__name__}")
    return value


RULES: tuple[Rule, ...] = load_rules(shipped_rules_text())

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    regex: re.Pattern[str]
    triggers: tuple[str, ...]
    needs_non_ascii: bool
    """Every trigger has a non-ASCII character: the rule cannot match ASCII text."""


@cache
def compiled_rules(fold: Callable[[str], str]) -> tuple[CompiledRule, ...]:
    """The rules with their patterns and triggers folded like the text they run on (so "é" in
    a pattern meets "é" folded to "e"), and plain spaces made into runs of white space."""
    compiled = []
    for rule in RULES:
        pattern = _NON_ASCII.sub(lambda m: fold(m.group()), rule.pattern).replace(" ", r"\s+")
        triggers = tuple(_NON_ASCII.sub(lambda m: fold(m.group()), t) for t in rule.triggers)
        compiled.append(
            CompiledRule(
                rule,
                re.compile(pattern),
                triggers,
                all(not t.isascii() for t in triggers),
            )
        )
    return tuple(compiled)
