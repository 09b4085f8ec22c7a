"""Typed access to a YAML file's composed nodes, so each value keeps the line it came from:
`load_document` reads one file's single document, `NodeReader` checks each value's type and
records every problem as `path:line: what is wrong`.

llmbench's own files are read as PyYAML reads them (YAML 1.1). Other tools' files can be read
with YAML 1.2's core schema instead (`yaml12=True`), as js-yaml reads them for promptfoo: only
`true`/`false` (any case of the first letter, or all capitals) are booleans, so `Yes`, `No`,
`on` and `off` stay text; `0o17` is octal and `0123` is the decimal 123; `1e3` is a number;
`1_000` and `12:30` are text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.importers.bounds import BoundedLoader, compose_yaml, integer_problem
from llmbench.importers.file_problems import FileProblem, PromptFileError, read_text

_TAG_WORDS = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "empty (null)",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
}


# YAML 1.2's core schema, as js-yaml 5 resolves plain scalars (its CORE_SCHEMA, which promptfoo
# extends with timestamps, merge keys and binary): the first that matches gives the tag.
_CORE_RESOLVERS: tuple[tuple[str, str, str], ...] = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?[0-9]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)"
        r"[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
        "0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^<<$", "<"),
)


class Yaml12Loader(BoundedLoader):
    """BoundedLoader (the same limits) resolving plain scalars by YAML 1.2's core schema."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in _CORE_RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
# The empty plain scalar is null too (PyYAML looks empty values up under None).
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


class Yaml12Constructor(SafeConstructor):
    """Numbers as YAML 1.2 reads them: `0o` octal, `0x` hex, any other digits decimal."""

    def construct_yaml_int(self, node: ScalarNode) -> int:  # type: ignore[override]
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        for prefix, base in (("0o", 8), ("0x", 16), ("0b", 2)):
            if digits.startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)

    def construct_yaml_float(self, node: ScalarNode) -> float:  # type: ignore[override]
        text = str(self.construct_scalar(node)).lower()
        if text.lstrip("+-") == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        if text == ".nan":
            return math.nan
        return float(text)


Yaml12Constructor.add_constructor("tag:yaml.org,2002:int", Yaml12Constructor.construct_yaml_int)
Yaml12Constructor.add_constructor("tag:yaml.org,2002:float", Yaml12Constructor.construct_yaml_float)


def compose_yaml12(text: str) -> Node | None:
    """The document's nodes, resolved by YAML 1.2's core schema (with BoundedLoader's limits)."""
    return yaml.compose(text, Loader=Yaml12Loader)  # type: ignore[no-any-return]


def load_yaml12(text: str) -> Any:
    """Plain data from a YAML 1.2 document (with BoundedLoader's limits)."""
    node = compose_yaml12(text)
    return None if node is None else Yaml12Constructor().construct_document(node)


class InvalidValue(Exception):
    """A value is wrong; the reader records it and goes on with the next item."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def load_document(path: Path, shown: str | None = None, *, yaml12: bool = False) -> Node:
    """The file's single YAML document as nodes (with their lines); PromptFileError if the
    file is not readable UTF-8, not YAML, empty, or more than one document. `yaml12` resolves
    plain scalars by YAML 1.2's core schema (other tools' files), else as YAML 1.1."""
    where = shown or str(path)
    text = read_text(path, where)
    try:
        node = compose_yaml12(text) if yaml12 else compose_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        problem = error.problem or error.context or "cannot be read"
        context = error.context_mark
        if error.problem and error.context and context and context.line + 1 != line:
            problem = f"{error.context} (line {context.line + 1}): {problem}"
        raise PromptFileError([FileProblem(where, line, f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as error:
        raise PromptFileError([FileProblem(where, 1, f"invalid YAML: {error}")]) from None
    if node is None:
        raise PromptFileError([FileProblem(where, 1, "the file is empty")])
    if yaml12:
        _apply_merges(node, where)
    return node


def _apply_merges(node: Node, where: str) -> None:
    """`<<: *defaults` merged into its mapping, as promptfoo's YAML schema does."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, MappingNode):
            try:
                SafeConstructor().flatten_mapping(current)
            except yaml.MarkedYAMLError as error:
                line = error.problem_mark.line + 1 if error.problem_mark else line_of(current)
                raise PromptFileError(
                    [FileProblem(where, line, f"invalid YAML: {error.problem}")]
                ) from None
            stack += [part for pair in current.value for part in pair]
        elif isinstance(current, SequenceNode):
            stack += current.value


class NodeReader:
    """Typed access to composed YAML nodes; every failure says what was expected and where."""

    def __init__(self, path: str, *, yaml12: bool = False) -> None:
        self.path = path
        self.problems: list[FileProblem] = []
        # The tags were resolved when the file was composed; a YAML 1.2 file's numbers are
        # also constructed by 1.2's rules (`0123` is decimal there, octal in 1.1).
        self._constructor = Yaml12Constructor() if yaml12 else SafeConstructor()

    def record(self, node: Node, message: str) -> None:
        self.problems.append(FileProblem(self.path, line_of(node), message))

    def record_line(self, line: int, message: str) -> None:
        self.problems.append(FileProblem(self.path, line, message))

    def value(self, node: Node) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except ValueError as error:  # a number Python refuses to read (over 4,300 digits)
            raise InvalidValue(node, f"{_kind(node)} cannot be read: {error}") from None

    def mapping(
        self, node: Node, what: str, allowed: Sequence[str] | None = None
    ) -> dict[str, Node]:
        """Keys to value nodes. Duplicate keys (which plain YAML loading silently overwrites)
        and, with `allowed`, unknown keys are errors."""
        if not isinstance(node, MappingNode):
            raise InvalidValue(
                node, f"{what} must be a mapping (key: value lines), not {_kind(node)}"
            )
        found: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise InvalidValue(key_node, f"{what}: a key must be text, not {_kind(key_node)}")
            key = key_node.value
            if key in found:
                raise InvalidValue(
                    key_node, f"{what}: duplicate key {key!r} (first at line {first_line[key]})"
                )
            if allowed is not None and key not in allowed:
                raise InvalidValue(
                    key_node, f"{what}: unknown key {key!r}; expected one of {', '.join(allowed)}"
                )
            found[key] = value_node
            first_line[key] = line_of(key_node)
        return found

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise InvalidValue(node, f"{what} must be a list, not {_kind(node)}")
        return list(node.value)

    def text(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            hint = f" (quote it: {node.value!r})" if isinstance(node, ScalarNode) else ""
            raise InvalidValue(node, f"{what} must be text, not {_kind(node)}{hint}")
        return str(node.value)

    def optional_text(self, node: Node | None, what: str, default: str = "") -> str:
        return default if node is None else self.text(node, what)

    def integer(self, node: Node, what: str, minimum: int = 1) -> int:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise InvalidValue(node, f"{what} must be a whole number, not {_kind(node)}")
        number = int(self.value(node))
        if problem := integer_problem(number, what):
            raise InvalidValue(node, problem)
        if number < minimum:
            raise InvalidValue(node, f"{what} must be at least {minimum}, not {number}")
        return number

    def optional_integer(self, node: Node | None, what: str) -> int | None:
        if node is None or is_null(node):
            return None
        return self.integer(node, what)

    def timestamp(self, node: Node | None, what: str) -> str | None:
        if node is None or is_null(node):
            return None
        text = self.text(node, what)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValue(node, f"{what} must be an ISO-8601 time, not {text!r}") from None
        return text

    def json_value(self, node: Node, what: str) -> Any:
        """Plain data that JSON can hold exactly (params are stored as JSON)."""
        if isinstance(node, MappingNode):
            return {
                key: self.json_value(value, what) for key, value in self.mapping(node, what).items()
            }
        if isinstance(node, SequenceNode):
            return [self.json_value(item, what) for item in node.value]
        value = self.value(node)
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidValue(
                    node, f"{what}: {node.value} cannot be saved (not a finite number)"
                )
            return value
        raise InvalidValue(
            node, f"{what}: {_kind(node)} cannot be saved; quote it to keep it as text"
        )


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _TAG_WORDS.get(node.tag, node.tag)
