"""`$ref` in a promptfoo config, resolved as promptfoo does before it reads anything else (its
config goes through json-schema-ref-parser): `{$ref: '#/assertionTemplates/x'}` anywhere in the
config is replaced by the value that JSON pointer names, `{$ref: 'other.yaml#/x'}` by a value of
another YAML or JSON file beside the config. Keys written beside `$ref` win over the referenced
mapping's own. A replaced value keeps the line of the `$ref`, so what is said about it points
at the place that used it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.yaml_nodes import line_of, load_document

REF_KEY = "$ref"
MAX_REF_DEPTH = 32  # references through references; deeper is taken for a cycle


class _RefProblem(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


class RefResolver:
    """Resolves every `$ref` of one config; problems are `file:line` entries."""

    def __init__(self, root: Node, path: Path, shown: str) -> None:
        self.root = root
        self.base = path.parent
        self.shown = shown
        self.problems: list[FileProblem] = []
        self._documents: dict[Path, Node] = {}

    def resolve(self) -> Node:
        return self._walk(self.root, 0)

    def _walk(self, node: Node, depth: int) -> Node:
        if isinstance(node, SequenceNode):
            node.value = [self._walk(item, depth) for item in node.value]
            return node
        if not isinstance(node, MappingNode):
            return node
        try:
            reference = _ref_of(node)
            if reference is None:
                node.value = [(key, self._walk(value, depth)) for key, value in node.value]
                return node
            return self._replace(node, reference, depth)
        except _RefProblem as problem:
            self.problems.append(FileProblem(self.shown, line_of(problem.node), str(problem)))
            return node

    def _replace(self, node: Node, reference: ScalarNode, depth: int) -> Node:
        if depth >= MAX_REF_DEPTH:
            raise _RefProblem(reference, f"$ref {reference.value!r}: references loop")
        target = self._target(reference)
        resolved = self._walk(_copy(target), depth + 1)
        siblings = [(key, value) for key, value in node.value if key.value != REF_KEY]
        if siblings and isinstance(resolved, MappingNode):
            written = {key.value for key, _ in siblings if isinstance(key, ScalarNode)}
            pairs = [(k, self._walk(v, depth)) for k, v in siblings]
            pairs += [(k, v) for k, v in resolved.value if k.value not in written]
            return MappingNode(resolved.tag, pairs, node.start_mark, node.end_mark)
        return _moved(resolved, node)

    def _target(self, reference: ScalarNode) -> Node:
        text = str(reference.value)
        location, _, pointer = text.partition("#")
        if location:
            if "://" in location:
                raise _RefProblem(reference, f"$ref {text!r}: only files beside the config")
            document = self._document(reference, location)
        else:
            document = self.root
        node = document
        for part in [p for p in pointer.split("/") if p] if pointer else []:
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            node = _child(node, key, reference, text)
        return node

    def _document(self, reference: ScalarNode, location: str) -> Node:
        path = (self.base / location).resolve()
        if path not in self._documents:
            try:
                self._documents[path] = load_document(path, str(path), yaml12=True)
            except PromptFileError as error:
                detail = error.problems[0].message if error.problems else "cannot be read"
                raise _RefProblem(reference, f"$ref {reference.value!r}: {detail}") from None
        return self._documents[path]


def _ref_of(node: MappingNode) -> ScalarNode | None:
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == REF_KEY:
            if isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:str":
                return value
            raise _RefProblem(value, "$ref must be text: '#/path/to/the/value'")
    return None


def _child(node: Node, key: str, reference: ScalarNode, text: str) -> Node:
    if isinstance(node, MappingNode):
        for item_key, value in node.value:
            if isinstance(item_key, ScalarNode) and item_key.value == key:
                return value
    elif isinstance(node, SequenceNode) and key.isdigit() and int(key) < len(node.value):
        return node.value[int(key)]
    raise _RefProblem(reference, f"$ref {text!r}: nothing is at {key!r}")


def _copy(node: Node) -> Node:
    """A copy to resolve in place: the same template may be used many times."""
    if isinstance(node, MappingNode):
        pairs = [(key, _copy(value)) for key, value in node.value]
        return MappingNode(node.tag, pairs, node.start_mark, node.end_mark, node.flow_style)
    if isinstance(node, SequenceNode):
        items = [_copy(item) for item in node.value]
        return SequenceNode(node.tag, items, node.start_mark, node.end_mark, node.flow_style)
    return node


def _moved(target: Node, place: Node) -> Node:
    """`target` as if written where the `$ref` was (its line, for what is reported)."""
    if isinstance(target, MappingNode):
        return MappingNode(target.tag, target.value, place.start_mark, place.end_mark)
    if isinstance(target, SequenceNode):
        return SequenceNode(target.tag, target.value, place.start_mark, place.end_mark)
    assert isinstance(target, ScalarNode)
    return ScalarNode(target.tag, target.value, place.start_mark, place.end_mark, target.style)


def resolve_refs(root: Node, path: Path, shown: str) -> Node:
    """The config with every `$ref` replaced; PromptFileError names each one that cannot be."""
    resolver = RefResolver(root, path, shown)
    resolved = resolver.resolve()
    if resolver.problems:
        raise PromptFileError(resolver.problems)
    return resolved
