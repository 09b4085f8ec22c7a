"""promptfoo tests as llmbench test cases: inline, or `file://` .csv (promptfoo's `__expected`
columns of assertion strings, `__description`, `__metadata:*`), .yaml/.json lists and .jsonl
lines; `vars` (list values expand into one test per combination, as promptfoo runs them;
`file://` values are read), `assert`, `description`, `metadata` (as tags)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.importers.bounds import BoundExceeded, compose_yaml
from llmbench.importers.case_csv import read_case_csv
from llmbench.importers.file_problems import FileProblem, PromptFileError
from llmbench.importers.promptfoo.csv_rows import CaseDoc, CsvRowReading, known_csv_column
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, line_of, load_document

_TEST_FILE_SUFFIXES = (".csv", ".yaml", ".yml", ".json", ".jsonl")
_TEST_KEYS = ("vars", "assert", "description", "metadata", "options", "threshold")
# promptfoo's options that reshape the output before every assertion of a test sees it
# (`postprocess` is transform's old name): the case's `transform` in the suite.
OUTPUT_TRANSFORMS = ("transform", "postprocess")
OPTION_WHY = {
    "rubricPrompt": "graded with llmbench's own judge prompt",
    "prefix": "prompt prefixes are not converted",
    "suffix": "prompt suffixes are not converted",
    "disableVarExpansion": "list vars always expand into one test each",
}
TEST_FIELD_WHY = {
    "providers": "a test limited to some providers runs on every model in a suite",
    "prompts": "a test limited to some prompts runs with every prompt in a suite",
    "provider": "a per-test provider is not converted",
    "assertScoringFunction": "runs code",
}


class CaseReading(CsvRowReading):
    """Reads `tests` into cases and their checks."""

    def _tests(self, node: Node | None, default_vars: dict[str, Any]) -> list[CaseDoc]:
        if node is None:
            # promptfoo runs each prompt once with no vars (plus defaultTest's).
            return self._expand(CaseDoc(dict(default_vars)), "tests", 1, self.shown)
        tests: list[CaseDoc] = []
        entries = self._listed(node, "tests")
        for index, item in enumerate(entries):
            where = f"tests[{index}]"
            if isinstance(item, ScalarNode):
                reference = self._text(item, where)
                tests += self._test_file(reference, where, item, default_vars)
            else:
                tests += self._test_node(item, where, default_vars, self.shown)
        return tests

    def _test_node(
        self, node: Node, where: str, default_vars: dict[str, Any], path: str
    ) -> list[CaseDoc]:
        reader = self.reader if path == self.shown else NodeReader(path, yaml12=True)
        try:
            fields = reader.mapping(node, where)
        except InvalidValue as error:
            self.fail(error.node, error.message, path=path)
            return []
        for key, value in fields.items():
            if key not in _TEST_KEYS:
                self.omit(
                    value, where, key, TEST_FIELD_WHY.get(key, "no place in a suite"), path=path
                )
        test = CaseDoc(dict(default_vars), origin=(path, line_of(node), where))
        # Why the test cannot run as promptfoo runs it (its assertions are then listed).
        left_out = ""
        if "options" in fields:
            self._test_options(fields["options"], where, path, test)
        if "threshold" in fields:
            self._test_threshold(fields["threshold"], f"{where}.threshold", path, test)
        if "vars" in fields:
            data = self._plain(fields["vars"], f"{where}.vars", path=path)
            if isinstance(data, dict):
                loaded = self._var_files(data, where, line_of(fields["vars"]), path)
                if loaded is None:
                    left_out = left_out or "the test is left out: a var file cannot be read"
                else:
                    test.vars.update(loaded)
            elif data is not None:
                self.fail(fields["vars"], f"{where}.vars must be a mapping", path=path)
                return []
        if "description" in fields:
            test.description = self._text_at(
                fields["description"], f"{where}.description", reader, path
            )
        if "metadata" in fields:
            data = self._plain(fields["metadata"], f"{where}.metadata", path=path)
            if isinstance(data, dict):
                test.tags = {
                    str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for k, v in data.items()
                }
        test.checks = self._assertions(
            fields.get("assert"),
            f"{where}.assert",
            path=path,
            skip=left_out,
        )
        if left_out:
            return []
        return self._expand(test, where, line_of(node), path)

    def _test_options(self, node: Node, where: str, path: str, test: CaseDoc) -> None:
        """A test's `options`: its transform is the case's."""
        data = self._plain(node, f"{where}.options", path=path)
        if not isinstance(data, dict):
            self.fail(node, f"{where}.options must be a mapping", path=path)
            return
        for key, value in data.items():
            if key in OUTPUT_TRANSFORMS:
                transform = self.output_transform_of(value, node, f"{where}.options.{key}", path)
                if transform:
                    test.grading["transform"] = transform
            elif key == "provider":
                provider = value.get("id") if isinstance(value, dict) else value
                if isinstance(provider, str):
                    self.graders.append((provider, f"{where}.options.provider", line_of(node)))
                else:
                    self.omit(node, f"{where}.options", key, "a grader needs an id", path=path)
            else:
                why = OPTION_WHY.get(key, "no place in a suite")
                self.omit(node, f"{where}.options", key, why, path=path)

    def _test_threshold(self, node: Node, where: str, path: str, test: CaseDoc) -> None:
        """A test's `threshold`: the case passes when its weighted score reaches it."""
        value = self._plain(node, where, path=path)
        threshold = self.threshold_of(value)
        if threshold is None:
            self.fail(node, f"{where} must be a number, got {value!r}", path=path)
        else:
            test.grading["threshold"] = threshold

    def _text_at(self, node: Node, what: str, reader: NodeReader, path: str) -> str:
        try:
            return reader.text(node, what)
        except InvalidValue as error:
            self.fail(error.node, error.message, path=path)
            return ""

    def _test_file(
        self, reference: str, where: str, node: Node, default_vars: dict[str, Any]
    ) -> list[CaseDoc]:
        if not reference.startswith("file://"):
            self.omit(
                node,
                where,
                reference,
                "only file:// test files are read (no generators or datasets by URL)",
            )
            return []
        target = reference[len("file://") :]
        path = self.base / target
        suffix = path.suffix.lower()
        if any(char in target for char in "*?[") or suffix not in _TEST_FILE_SUFFIXES:
            why = (
                "a glob; list the files"
                if any(c in target for c in "*?[")
                else "only .csv, .yaml, .json and .jsonl test files are read"
            )
            self.omit(node, where, reference, why)
            return []
        shown = str(path)
        if suffix in (".yaml", ".yml", ".json"):
            try:
                root = load_document(path, shown, yaml12=True)
            except PromptFileError as error:
                self.reader.problems.extend(error.problems)
                return []
            items = list(root.value) if isinstance(root, SequenceNode) else [root]
            tests = []
            for index, item in enumerate(items):
                tests += self._test_node(item, f"{target}[{index}]", default_vars, shown)
            return tests
        text = self.file_text(node, where, reference, path)
        if text is None:
            return []
        if suffix == ".jsonl":
            return self._jsonl_tests(text, shown, target, default_vars)
        return self._csv_tests(text, shown, default_vars)

    def _jsonl_tests(
        self, text: str, shown: str, target: str, default_vars: dict[str, Any]
    ) -> list[CaseDoc]:
        tests = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                node = compose_yaml(raw)
            except BoundExceeded as error:
                self.reader.problems.append(FileProblem(shown, number, str(error.problem)))
                continue
            except yaml.YAMLError:
                node = None
            if not isinstance(node, MappingNode):
                self.reader.problems.append(
                    FileProblem(shown, number, "each line must be a JSON object")
                )
                continue
            _shift_lines(node, number - 1)
            tests += self._test_node(node, f"{target} line {number}", default_vars, shown)
        return tests

    def _csv_tests(self, text: str, shown: str, default_vars: dict[str, Any]) -> list[CaseDoc]:
        # importers/case_csv.py reads the file as every importer does (quoting, duplicate
        # columns, line numbers); each row it could read is mapped by _csv_row.
        table = read_case_csv(text, shown)
        self.reader.problems.extend(table.problems)
        for column in table.columns:
            if column.startswith("__") and not known_csv_column(column):
                self.omit(
                    1,
                    shown.rsplit("/", 1)[-1],
                    column,
                    "a column llmbench does not read",
                    path=shown,
                )
        tests = []
        for case in table.cases:
            tests += self._csv_row(dict(case.cells), shown, case.line, default_vars)
        return tests


def _shift_lines(node: Node, offset: int) -> None:
    """Lines of a node composed from one line of a JSONL file, as lines of the file."""
    for mark in (node.start_mark, node.end_mark):
        mark.line += offset
    if isinstance(node, MappingNode):
        for key, value in node.value:
            _shift_lines(key, offset)
            _shift_lines(value, offset)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _shift_lines(item, offset)


def test_data(test: CaseDoc) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if test.description:
        data["description"] = test.description
    data["vars"] = test.vars
    if test.expected is not None:
        data["expected"] = test.expected
    if test.checks:
        data["checks"] = test.checks
    if test.tags:
        data["tags"] = test.tags
    data.update(test.grading)
    return data
