"""Bounds on what files a user hands llmbench may hold: how deep JSON and YAML nest, how large
an integer is.

Python's parsers recurse once per level: a line of 100,000 `[` raises RecursionError (a
traceback, not a `file:line` problem), and a value nested nearly as deep as the interpreter
allows parses, then breaks whatever recurses over it next. So every importer reads through
these functions, which refuse more than MAX_NESTING levels of lists and mappings with
NestingError and the line where the limit was passed. YAML has two more ways to be endless:
an alias inside the node it names (`&a [*a]`, a value that holds itself) and aliases of aliases
that expand exponentially ("billion laughs"); both are refused while the file is composed.
An integer beyond SQLite's 64 bits would stop the writer with OverflowError once the file was
read: readers check numbers against MAX_INTEGER where they meet them, so the problem has its
line.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_NESTING = 100
MAX_INTEGER = 2**63 - 1  # SQLite's largest integer
# Values that aliases may add to a YAML document (each use of `*a` adds the size of what `&a`
# names): far beyond any hand-written config, far below what would exhaust memory or time.
MAX_ALIASED_VALUES = 1_000_000
NESTING_PROBLEM = f"nested deeper than {MAX_NESTING} levels of lists and objects"


def integer_problem(number: int, what: str) -> str | None:
    """Why `number` cannot be stored as an integer (None: it can)."""
    if -MAX_INTEGER - 1 <= number <= MAX_INTEGER:
        return None
    return f"{what} is out of range: a stored number is at most {MAX_INTEGER:,} (64 bits)"


class NestingError(ValueError):
    """The text nests deeper than MAX_NESTING; `line` is where it passes the limit (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__(NESTING_PROBLEM)
        self.line = line


def load_json(text: str) -> Any:
    """json.loads, refusing text that nests deeper than MAX_NESTING (NestingError); other
    invalid JSON raises json.JSONDecodeError as json.loads does."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise NestingError(_line_past_limit(text)) from None
    # Counting brackets is cheap; only text with enough of them can be too deep.
    if text.count("[") + text.count("{") > MAX_NESTING and _too_deep(value):
        raise NestingError(_line_past_limit(text))
    return value


def _too_deep(value: Any) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_NESTING:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _line_past_limit(text: str) -> int:
    """The line of the bracket that opens level MAX_NESTING + 1, outside strings."""
    depth = 0
    line = 1
    in_string = escaped = False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line
        elif char in "]}":
            depth -= 1
    return line


class BoundExceeded(ComposerError):
    """A YAML document passes one of BoundedLoader's limits; `problem` says which."""


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents that nest too deep, hold themselves through an
    alias, or expand through aliases beyond MAX_ALIASED_VALUES. It raises BoundExceeded, a
    ComposerError with the line it happens at, so callers report it like any YAML error."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open: set[int] = set()  # lists and mappings being composed (ids)
        self._sizes: dict[int, int] = {}  # values each node stands for, aliases expanded
        self._aliased = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:  # type: ignore[override]
        # Every node is composed inside its parent's call: the parents on the stack are the
        # open lists and mappings, as many as the node is deep.
        opened = parent is not None and id(parent) not in self._open
        if opened:
            self._open.add(id(parent))
        try:
            return self._compose_bounded(parent, index)
        finally:
            if opened:
                self._open.discard(id(parent))

    def _compose_bounded(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            target = self.anchors.get(str(event.anchor))
            if target is not None and id(target) in self._open:
                self._refuse(event, f"alias *{event.anchor} is inside the value it names")
            if target is not None:
                self._aliased += self._sizes.get(id(target), 1)
                if self._aliased > MAX_ALIASED_VALUES:
                    self._refuse(
                        event, f"aliases expand to more than {MAX_ALIASED_VALUES:,} values"
                    )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        opens = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if opens and len(self._open) >= MAX_NESTING:
            self._refuse(event, NESTING_PROBLEM)
        node: Node = super().compose_node(parent, index)
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        return node

    @staticmethod
    def _refuse(event: Any, problem: str) -> None:
        raise BoundExceeded(None, None, problem, event.start_mark)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def compose_yaml(text: str) -> Node | None:
    """yaml.compose with BoundedLoader: the document's nodes, with their lines."""
    return yaml.compose(text, Loader=BoundedLoader)  # type: ignore[no-any-return]


def load_yaml(text: str) -> Any:
    """yaml.safe_load with BoundedLoader's limits."""
    return yaml.load(text, Loader=BoundedLoader)  # a SafeLoader: plain data only
