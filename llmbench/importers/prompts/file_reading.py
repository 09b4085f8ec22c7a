"""Reading an llmbench prompt file: every field checked, each problem reported as
`path:line: what is wrong` (all of them, not just the first), giving a PromptDoc.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from yaml.nodes import MappingNode, Node, ScalarNode

from llmbench.core.models import VARIABLE_KINDS, Example, NoteKind, Variable
from llmbench.core.prompts.caching import cacheable_of
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.prompts.documents import (
    FILE_SUFFIXES,
    LabelDoc,
    NoteDoc,
    PromptDoc,
    VersionDoc,
)
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, is_null, line_of
from llmbench.store.prompts.names import prompt_name_problem

NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)

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
    "cacheable",
    "sections",
)
_NOTE_KEYS = ("kind", "version", "author", "created_at", "text")
_VARIABLE_KEYS = ("name", "kind", "max_tokens")
_EXAMPLE_KEYS = ("input", "output")


def prompt_file_problem(path: Path, shown: str) -> FileProblem | None:
    """Why `path` is not a file to read prompts from (None: it is): prompt files end in .yaml or
    .yml, and so does what a link points at, so a link to /etc/passwd is not read as one."""
    if path.suffix not in FILE_SUFFIXES:
        return FileProblem(shown, 1, f"not a prompt file: {' or '.join(FILE_SUFFIXES)} expected")
    target = path.resolve()
    if target.suffix not in FILE_SUFFIXES:
        return FileProblem(shown, 1, f"links to {target}, which is not a prompt file")
    if not target.is_file():
        return FileProblem(shown, 1, "not a regular file")
    return None


def is_prompt_document(node: Node) -> bool:
    """An llmbench prompt file (as opposed to another tool's template) has `versions:`."""
    return isinstance(node, MappingNode) and any(
        isinstance(key, ScalarNode) and key.value == "versions" for key, _ in node.value
    )


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
    if problem := prompt_name_problem(name):
        raise InvalidValue(node, problem)
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
    if params_node is not None and not is_null(params_node):
        reader.mapping(params_node, f"{what}: params")
        params = reader.json_value(params_node, f"{what}: params")
    version = VersionDoc(
        number=number,
        sections=sections,
        variables=read_variables(reader, fields.get("variables"), what),
        model=reader.optional_text(fields.get("model"), f"{what}: model"),
        params=params,
        parent=parent,
        examples=_read_examples(reader, fields.get("examples"), what),
        few_shot_k=reader.optional_integer(fields.get("few_shot_k"), f"{what}: few_shot_k"),
        cacheable=_read_cacheable(reader, fields.get("cacheable"), sections, what),
        author=None if "author" not in fields else reader.text(fields["author"], f"{what}: author"),
        message=reader.optional_text(fields.get("message"), f"{what}: message"),
        created_at=reader.timestamp(fields.get("created_at"), f"{what}: created_at"),
        line=line_of(fields["version"]),
        parent_line=line_of(fields["parent"]) if "parent" in fields else line_of(node),
    )
    return version, number


def _read_cacheable(
    reader: NodeReader, node: Node | None, sections: Mapping[str, str], what: str
) -> tuple[str, ...]:
    """`cacheable: [role, format]`: sections of this version sent first and marked for the
    provider's prompt cache."""
    if node is None or is_null(node):
        return ()
    names = []
    for item in reader.sequence(node, f"{what}: cacheable"):
        name = reader.text(item, f"{what}: a cacheable section")
        if name not in sections:
            raise InvalidValue(item, f"{what}: cacheable names {name!r}, not one of its sections")
        names.append(name)
    return cacheable_of(names)


def read_variables(reader: NodeReader, node: Node | None, what: str) -> tuple[Variable, ...]:
    if node is None or is_null(node):
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
    if node is None or is_null(node):
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
    if node is None or is_null(node):
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
    if node is None or is_null(node):
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
