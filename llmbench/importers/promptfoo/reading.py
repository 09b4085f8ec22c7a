"""What reading a promptfoo config needs everywhere: where each problem, each omission and each
converted assertion was (file and line), typed access to its YAML nodes (read as YAML 1.2, as
promptfoo's js-yaml reads them), and `file://` values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.importers.bounds import load_json
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.promptfoo.assertions import Unconvertible
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, line_of, load_yaml12

DATA_SUFFIXES = (".json", ".yaml", ".yml")


class PromptfooError(PromptFileError):
    """The config cannot be converted; each problem names its file and line."""


@dataclass(frozen=True)
class Omission:
    """Something of the config that is not in the suite (or is only approximately)."""

    path: str
    line: int
    where: str  # e.g. tests[2].assert[1]
    what: str  # e.g. javascript
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.where}: {self.what} — {self.why}"

    def comment(self, base: Path) -> str:
        where = shown_path(Path(self.path), base)
        return f"{where}:{self.line}: {self.where}: {self.what} — {self.why}"


@dataclass(frozen=True)
class ConvertedAssertion:
    """An assertion of the config that is a check of the suite: where it was, its promptfoo
    type and the llmbench check type it became."""

    path: str
    line: int
    where: str
    what: str
    check: str


class ConfigReader:
    """The config's file and folder, its problems (errors: nothing is written) and what of it
    is not converted (omitted) or only approximately (notes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent
        self.shown = str(path)
        self.reader = NodeReader(self.shown, yaml12=True)
        self.omitted: list[Omission] = []
        self.notes: list[Omission] = []
        self.converted: list[ConvertedAssertion] = []
        self.graders: list[tuple[str, str, int]] = []  # llm-rubric's own: (id, where, line)
        # defaultTest's transform and threshold: the suite's, every case's unless it has its own.
        self.default_grading: dict[str, Any] = {}

    def omit(
        self, node_or_line: Node | int, where: str, what: str, why: str, *, path: str = ""
    ) -> None:
        line = node_or_line if isinstance(node_or_line, int) else line_of(node_or_line)
        self.omitted.append(Omission(path or self.shown, line, where, what, why))

    def note(
        self, node_or_line: Node | int, where: str, what: str, why: str, *, path: str = ""
    ) -> None:
        line = node_or_line if isinstance(node_or_line, int) else line_of(node_or_line)
        self.notes.append(Omission(path or self.shown, line, where, what, why))

    def fail(self, node: Node, message: str, *, path: str = "") -> None:
        self.reader.problems.append(FileProblem(path or self.shown, line_of(node), message))

    def file_text(self, node: Node, where: str, reference: str, path: Path) -> str | None:
        """A referenced file's UTF-8 text, or None with the problem recorded at `node`."""
        try:
            return path.read_bytes().decode("utf-8-sig")
        except OSError as error:
            self.fail(node, f"{where}: cannot read {reference}: {error.strerror}")
        except UnicodeDecodeError:
            self.fail(node, f"{where}: {reference} is not UTF-8 text")
        return None

    def mapping(self, node: Node, what: str) -> dict[str, Node] | None:
        try:
            return self.reader.mapping(node, what)
        except InvalidValue as error:
            self.fail(error.node, error.message)
            return None

    def _text(self, node: Node | None, what: str) -> str:
        if node is None:
            return ""
        try:
            return self.reader.text(node, what)
        except InvalidValue as error:
            self.fail(error.node, error.message)
            return ""

    def _plain(self, node: Node, what: str, *, path: str = "") -> Any:
        """The node's value as JSON data (vars and check values are saved as JSON)."""
        try:
            return NodeReader(path or self.shown, yaml12=True).json_value(node, what)
        except InvalidValue as error:
            self.fail(error.node, error.message, path=path)
            return None

    def _listed(self, node: Node, what: str) -> list[Node]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            return [node]
        if isinstance(node, MappingNode) and what == "providers":
            return [node]
        self.fail(node, f"{what} must be a list")
        return []


def shown_path(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def read_value(base: Path, reference: str) -> Any:
    """A file:// value: the text of .txt/.md files, the data of .json/.yaml ones."""
    target = reference[len("file://") :]
    path = base / target
    suffix = path.suffix.lower()
    if suffix in (".js", ".ts", ".mjs", ".cjs", ".py") or ":" in target:
        raise Unconvertible(f"{reference} runs code")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise Unconvertible(f"cannot read {reference}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise Unconvertible(f"{reference} is not UTF-8 text") from None
    if suffix in DATA_SUFFIXES:
        try:
            return load_json(text) if suffix == ".json" else load_yaml12(text)
        except (ValueError, yaml.YAMLError) as error:
            raise Unconvertible(f"{reference} cannot be read: {first_line(error)}") from None
    return text


def first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
