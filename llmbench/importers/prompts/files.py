"""Prompts as readable YAML files, one per prompt: reading them with the line of every problem,
and writing them byte-for-byte the same way every time so they diff well in git.

A file holds the prompt's description and tags, its labels (label: version number), its notes
and every version with its metadata. Multi-line text is written as YAML literal blocks (`|`).
Reading goes through `yaml.compose`, so each value keeps the line it came from and a problem is
reported as `path:line: what is wrong`.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.core.models import (
    SECTION_NAMES,
    VARIABLE_KINDS,
    Example,
    NoteKind,
    Variable,
)

NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)
FILE_SUFFIXES = (".yaml", ".yml")
HEADER = "# llmbench prompt file. Saved versions are immutable: add a version with a new number.\n"

_TOP_KEYS = ("name", "description", "tags", "labels", "notes", "versions")
_VERSION_KEYS = (
    "version",
    "created_at",
    "author",
    "message",
    "model",
    "params",
    "parent",
    "variables",
    "few_shot_k",
    "examples",
    "sections",
)
_NOTE_KEYS = ("kind", "version", "author", "created_at", "text")
_VARIABLE_KEYS = ("name", "kind", "max_tokens")
_EXAMPLE_KEYS = ("input", "output")
# YAML reads these as line breaks inside block scalars, so text holding them is double-quoted.
_YAML_LINE_BREAKS = ("\x85", "\u2028", "\u2029")
_TAG_WORDS = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "empty (null)",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
}


# -- the documents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PromptFileError(ValueError):
    """One or more files cannot be imported; each problem names its file and line."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class VersionDoc:
    """One version as a file holds it. `number` None means "the next version, unless it is
    the same as the latest" (files without numbers, such as llm templates). `author` and
    `created_at` None mean the importer chooses (its user, now) and they are not compared."""

    number: int | None
    sections: dict[str, str]
    variables: tuple[Variable, ...] = ()
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None
    examples: tuple[Example, ...] = ()
    few_shot_k: int | None = None
    author: str | None = None
    message: str = ""
    created_at: str | None = None
    line: int = 0
    parent_line: int = 0


@dataclass(frozen=True)
class LabelDoc:
    label: str
    version: int
    line: int = 0


@dataclass(frozen=True)
class NoteDoc:
    kind: str
    text: str
    version: int | None = None
    author: str | None = None
    created_at: str | None = None
    line: int = 0


@dataclass(frozen=True)
class PromptDoc:
    name: str
    versions: tuple[VersionDoc, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    labels: tuple[LabelDoc, ...] = ()
    notes: tuple[NoteDoc, ...] = ()
    path: str = ""
    line: int = 1
    warnings: tuple[FileProblem, ...] = ()


# -- reading ---------------------------------------------------------------------------------


class InvalidValue(Exception):
    """A value is wrong; the reader records it and goes on with the next item."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def load_document(path: Path, shown: str | None = None) -> Node:
    """The file's single YAML document as nodes (with their lines); PromptFileError if the
    file is not readable UTF-8, not YAML, empty, or more than one document."""
    where = shown or str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise PromptFileError([FileProblem(where, line, "not UTF-8 text")]) from None
    except OSError as error:
        raise PromptFileError([FileProblem(where, 1, f"cannot read: {error.strerror}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
    return node


def is_prompt_document(node: Node) -> bool:
    """An llmbench prompt file (as opposed to another tool's template) has `versions:`."""
    return isinstance(node, MappingNode) and any(
        isinstance(key, ScalarNode) and key.value == "versions" for key, _ in node.value
    )


class NodeReader:
    """Typed access to composed YAML nodes; every failure says what was expected and where."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[FileProblem] = []
        self._constructor = SafeConstructor()

    def record(self, node: Node, message: str) -> None:
        self.problems.append(FileProblem(self.path, line_of(node), message))

    def record_line(self, line: int, message: str) -> None:
        self.problems.append(FileProblem(self.path, line, message))

    def value(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

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
        if number < minimum:
            raise InvalidValue(node, f"{what} must be at least {minimum}, not {number}")
        return number

    def optional_integer(self, node: Node | None, what: str) -> int | None:
        if node is None or _is_null(node):
            return None
        return self.integer(node, what)

    def timestamp(self, node: Node | None, what: str) -> str | None:
        if node is None or _is_null(node):
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


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _TAG_WORDS.get(node.tag, node.tag)


def parse_prompt_document(node: Node, path: str) -> PromptDoc:
    """Validate an llmbench prompt file's document; PromptFileError lists every problem."""
    reader = NodeReader(path)
    try:
        top = reader.mapping(node, "the file", _TOP_KEYS)
    except InvalidValue as error:
        raise PromptFileError([FileProblem(path, line_of(error.node), error.message)]) from None
    name = ""
    description = ""
    tags: tuple[str, ...] = ()
    try:
        if "name" not in top:
            raise InvalidValue(node, "the prompt needs a name (name: ...)")
        name = _prompt_name(reader, top["name"])
    except InvalidValue as error:
        reader.record(error.node, error.message)
    try:
        description = reader.optional_text(top.get("description"), "description")
    except InvalidValue as error:
        reader.record(error.node, error.message)
    try:
        if "tags" in top:
            tags = tuple(
                reader.text(item, "a tag") for item in reader.sequence(top["tags"], "tags")
            )
    except InvalidValue as error:
        reader.record(error.node, error.message)
    versions = _read_versions(reader, node, top.get("versions"))
    labels = _read_labels(reader, top.get("labels"))
    notes = _read_notes(reader, top.get("notes"))
    if reader.problems:
        raise PromptFileError(reader.problems)
    return PromptDoc(
        name=name,
        description=description,
        tags=tags,
        labels=labels,
        notes=notes,
        versions=versions,
        path=path,
        line=line_of(top["name"]),
    )


def _prompt_name(reader: NodeReader, node: Node) -> str:
    name = reader.text(node, "name")
    if not name.strip():
        raise InvalidValue(node, "name must not be empty")
    if name != name.strip():
        raise InvalidValue(node, "name must not start or end with spaces")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise InvalidValue(node, "name must not contain control characters")
    return name


def _read_versions(reader: NodeReader, root: Node, node: Node | None) -> tuple[VersionDoc, ...]:
    if node is None:
        reader.record(root, "the prompt needs its list of versions (versions: ...)")
        return ()
    try:
        items = reader.sequence(node, "versions")
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    versions: list[VersionDoc] = []
    first_line: dict[int, int] = {}
    previous = 0
    for item in items:
        try:
            version, number = _read_version(reader, item)
        except InvalidValue as error:
            reader.record(error.node, error.message)
            continue
        if number in first_line:
            reader.record_line(
                version.line, f"duplicate version {number} (first at line {first_line[number]})"
            )
            continue
        if number < previous:
            reader.record_line(
                version.line,
                f"version {number} comes after version {previous};"
                " list versions in ascending order",
            )
        first_line[number] = version.line
        previous = max(previous, number)
        versions.append(version)
    return tuple(versions)


def _read_version(reader: NodeReader, node: Node) -> tuple[VersionDoc, int]:
    fields = reader.mapping(node, "a version", _VERSION_KEYS)
    if "version" not in fields:
        raise InvalidValue(node, "a version needs its number (version: N)")
    number = reader.integer(fields["version"], "version")
    what = f"version {number}"
    if "sections" not in fields:
        raise InvalidValue(node, f"{what} has no sections")
    sections = {
        key: reader.text(value, f"{what}: section {key!r}")
        for key, value in reader.mapping(fields["sections"], f"{what}: sections").items()
    }
    parent = reader.optional_integer(fields.get("parent"), f"{what}: parent")
    if parent is not None and parent >= number:
        raise InvalidValue(
            fields["parent"], f"{what}: parent must be an earlier version, not {parent}"
        )
    params_node = fields.get("params")
    params: dict[str, Any] = {}
    if params_node is not None and not _is_null(params_node):
        reader.mapping(params_node, f"{what}: params")
        params = reader.json_value(params_node, f"{what}: params")
    version = VersionDoc(
        number=number,
        sections=sections,
        variables=_read_variables(reader, fields.get("variables"), what),
        model=reader.optional_text(fields.get("model"), f"{what}: model"),
        params=params,
        parent=parent,
        examples=_read_examples(reader, fields.get("examples"), what),
        few_shot_k=reader.optional_integer(fields.get("few_shot_k"), f"{what}: few_shot_k"),
        author=None if "author" not in fields else reader.text(fields["author"], f"{what}: author"),
        message=reader.optional_text(fields.get("message"), f"{what}: message"),
        created_at=reader.timestamp(fields.get("created_at"), f"{what}: created_at"),
        line=line_of(fields["version"]),
        parent_line=line_of(fields["parent"]) if "parent" in fields else line_of(node),
    )
    return version, number


def _read_variables(reader: NodeReader, node: Node | None, what: str) -> tuple[Variable, ...]:
    if node is None or _is_null(node):
        return ()
    variables: list[Variable] = []
    for item in reader.sequence(node, f"{what}: variables"):
        fields = reader.mapping(item, f"{what}: a variable", _VARIABLE_KEYS)
        if "name" not in fields:
            raise InvalidValue(item, f"{what}: a variable needs a name")
        name = reader.text(fields["name"], f"{what}: variable name")
        kind = "trusted"
        if "kind" in fields:
            kind = reader.text(fields["kind"], f"{what}: variable {name!r}: kind")
            if kind not in VARIABLE_KINDS:
                raise InvalidValue(
                    fields["kind"],
                    f"{what}: variable {name!r}: unknown kind {kind!r};"
                    f" use one of {', '.join(VARIABLE_KINDS)}",
                )
        max_tokens = reader.optional_integer(
            fields.get("max_tokens"), f"{what}: variable {name!r}: max_tokens"
        )
        if any(existing.name == name for existing in variables):
            raise InvalidValue(fields["name"], f"{what}: variable {name!r} is declared twice")
        variables.append(Variable(name, kind, max_tokens))  # type: ignore[arg-type]
    return tuple(variables)


def _read_examples(reader: NodeReader, node: Node | None, what: str) -> tuple[Example, ...]:
    if node is None or _is_null(node):
        return ()
    examples: list[Example] = []
    for item in reader.sequence(node, f"{what}: examples"):
        fields = reader.mapping(item, f"{what}: an example", _EXAMPLE_KEYS)
        for key in _EXAMPLE_KEYS:
            if key not in fields:
                raise InvalidValue(item, f"{what}: an example needs {key!r}")
        examples.append(
            Example(
                reader.text(fields["input"], f"{what}: example input"),
                reader.text(fields["output"], f"{what}: example output"),
            )
        )
    return tuple(examples)


def _read_labels(reader: NodeReader, node: Node | None) -> tuple[LabelDoc, ...]:
    if node is None or _is_null(node):
        return ()
    try:
        fields = reader.mapping(node, "labels")
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    labels: list[LabelDoc] = []
    for label, value in fields.items():
        try:
            if not label.strip() or label != label.strip():
                raise InvalidValue(
                    value, f"label {label!r}: a label name cannot be blank or padded"
                )
            number = reader.integer(value, f"label {label!r}: the version it points at")
        except InvalidValue as error:
            reader.record(error.node, error.message)
            continue
        labels.append(LabelDoc(label, number, line_of(value)))
    return tuple(labels)


def _read_notes(reader: NodeReader, node: Node | None) -> tuple[NoteDoc, ...]:
    if node is None or _is_null(node):
        return ()
    try:
        items = reader.sequence(node, "notes")
    except InvalidValue as error:
        reader.record(error.node, error.message)
        return ()
    notes: list[NoteDoc] = []
    for item in items:
        try:
            fields = reader.mapping(item, "a note", _NOTE_KEYS)
            for key in ("kind", "text"):
                if key not in fields:
                    raise InvalidValue(item, f"a note needs {key!r}")
            kind = reader.text(fields["kind"], "note kind")
            if kind not in NOTE_KINDS:
                raise InvalidValue(
                    fields["kind"],
                    f"unknown note kind {kind!r}; use one of {', '.join(NOTE_KINDS)}",
                )
            notes.append(
                NoteDoc(
                    kind=kind,
                    text=reader.text(fields["text"], "note text"),
                    version=reader.optional_integer(fields.get("version"), "note version"),
                    author=None
                    if "author" not in fields
                    else reader.text(fields["author"], "note author"),
                    created_at=reader.timestamp(fields.get("created_at"), "note created_at"),
                    line=line_of(item),
                )
            )
        except InvalidValue as error:
            reader.record(error.node, error.message)
    return tuple(notes)


# -- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Indented lists, literal blocks for multi-line text, nothing folded."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        # PyYAML falls back to double quotes by itself when a literal block cannot hold the
        # text exactly (trailing spaces on a line, tabs, carriage returns); text of blank
        # lines only reads better as "\n\n".
        block = value.strip() and not any(char in value for char in _YAML_LINE_BREAKS)
        style = "|" if block else '"'
    elif any(char in value for char in _YAML_LINE_BREAKS):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def ordered_sections(sections: Mapping[str, str]) -> dict[str, str]:
    """The template's own order: the known sections first, then the others by name."""
    known = [name for name in SECTION_NAMES if name in sections]
    others = sorted(name for name in sections if name not in SECTION_NAMES)
    return {name: sections[name] for name in known + others}


def _version_data(version: VersionDoc) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": version.number,
        "created_at": version.created_at or "",
        "author": version.author or "",
        "message": version.message,
        "model": version.model,
        "params": dict(version.params),
        "parent": version.parent,
        "variables": [variable.to_json() for variable in version.variables],
    }
    if version.few_shot_k is not None:
        data["few_shot_k"] = version.few_shot_k
    if version.examples:
        data["examples"] = [example.to_json() for example in version.examples]
    data["sections"] = ordered_sections(version.sections)
    return data


def dump_prompt(prompt: PromptDoc) -> str:
    """The file's text: fixed key order and formatting, ending in one newline."""
    data = {
        "name": prompt.name,
        "description": prompt.description,
        "tags": list(prompt.tags),
        "labels": {label.label: label.version for label in sorted(prompt.labels, key=_label_key)},
        "notes": [
            {
                "kind": note.kind,
                "version": note.version,
                "author": note.author or "",
                "created_at": note.created_at or "",
                "text": note.text,
            }
            for note in prompt.notes
        ],
        "versions": [_version_data(version) for version in prompt.versions],
    }
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
        indent=2,
    )
    return HEADER + body


def _label_key(label: LabelDoc) -> str:
    return label.label


_UNSAFE_IN_FILE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)


def file_name_for(name: str) -> str:
    """`<name>.yaml`, with characters that some file systems refuse replaced by '_'.
    ValueError for names that would leave the folder (separators, '.', '..')."""
    if "/" in name or "\\" in name:
        raise ValueError(f"prompt {name!r} cannot be a file name: it contains a path separator")
    if name in ("", ".", ".."):
        raise ValueError(f"prompt {name!r} cannot be a file name")
    safe = _UNSAFE_IN_FILE_NAME.sub("_", name)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe.endswith((" ", ".")) or _WINDOWS_RESERVED.match(safe):
        safe += "_"
    return f"{safe}.yaml"


def prompt_json(params: Mapping[str, Any]) -> str:
    """A canonical form for comparing params (so 1, 1.0 and true are told apart)."""
    return json.dumps(params, sort_keys=True, ensure_ascii=False)
