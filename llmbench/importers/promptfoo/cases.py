"""promptfoo tests as llmbench test cases: inline, or `file://` .csv (promptfoo's `__expected`
columns of assertion strings, `__description`, `__metadata:*`), .yaml/.json lists and .jsonl
lines; `vars` (list values expand into one test per combination, as promptfoo runs them;
`file://` values are read), `assert`, `description`, `metadata` (as tags)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from llmbench.importers.bounds import BoundExceeded, compose_yaml
from llmbench.importers.file_problems import FileProblem, PromptFileError, field_count_problem
from llmbench.importers.promptfoo.assertions import (
    Converted,
    Unconvertible,
    assertion_from_string,
    assertion_type,
    convert_assertion,
)
from llmbench.importers.promptfoo.reading import ConfigReader, read_value
from llmbench.importers.yaml_nodes import InvalidValue, NodeReader, line_of, load_document

MAX_EXPANDED_TESTS = 10_000
_TEST_FILE_SUFFIXES = (".csv", ".yaml", ".yml", ".json", ".jsonl")
_TEST_KEYS = ("vars", "assert", "description", "metadata")
TEST_FIELD_WHY = {
    "options": "test options (transforms, per-test providers, prefixes) are not converted",
    "threshold": "a test-level pass threshold has no place in a suite (every check must pass)",
    "providers": "a test limited to some providers runs on every model in a suite",
    "prompts": "a test limited to some prompts runs with every prompt in a suite",
    "provider": "a per-test provider is not converted",
    "assertScoringFunction": "runs code",
}


@dataclass
class CaseDoc:
    """One promptfoo test as it becomes one case of the suite."""

    vars: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    expected: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class CaseReading(ConfigReader):
    """Reads `tests` (and the assertions of tests and defaultTest) into cases and checks."""

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
        reader = self.reader if path == self.shown else NodeReader(path)
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
        test = CaseDoc(dict(default_vars))
        if "vars" in fields:
            data = self._plain(fields["vars"], f"{where}.vars", path=path)
            if isinstance(data, dict):
                loaded = self._var_files(data, where, line_of(fields["vars"]), path)
                if loaded is None:
                    return []
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
                    str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()
                }
        test.checks = self._assertions(fields.get("assert"), f"{where}.assert", path=path)
        return self._expand(test, where, line_of(node), path)

    def _text_at(self, node: Node, what: str, reader: NodeReader, path: str) -> str:
        try:
            return reader.text(node, what)
        except InvalidValue as error:
            self.fail(error.node, error.message, path=path)
            return ""

    def _var_files(
        self, variables: dict[str, Any], where: str, line: int, path: str
    ) -> dict[str, Any] | None:
        """Vars whose value is file://...: the file's text (or data); None when one cannot be
        read as data, so the test is left out."""
        base = Path(path).parent
        loaded = {}
        for key, value in variables.items():
            if isinstance(value, str) and value.startswith("file://"):
                try:
                    loaded[key] = read_value(base, value)
                except Unconvertible as error:
                    self.omit(
                        line,
                        where,
                        f"vars.{key} ({value})",
                        f"{error}; the test is left out",
                        path=path,
                    )
                    return None
            else:
                loaded[key] = value
        return loaded

    def _expand(self, test: CaseDoc, where: str, line: int, path: str) -> list[CaseDoc]:
        """promptfoo runs a test once per combination of its list-valued vars."""
        lists = {key: value for key, value in test.vars.items() if isinstance(value, list)}
        if not lists:
            return [test]
        count = math.prod(len(value) for value in lists.values())
        if count > MAX_EXPANDED_TESTS:
            self.reader.problems.append(
                FileProblem(
                    path,
                    line,
                    f"{where}: its list vars make {count:,} tests (at most {MAX_EXPANDED_TESTS:,})",
                )
            )
            return []
        if count == 0:
            self.omit(line, where, "vars", "an empty list makes no tests", path=path)
            return []
        tests = []
        for values in itertools.product(*lists.values()):
            variables = {**test.vars, **dict(zip(lists, values, strict=True))}
            tests.append(
                CaseDoc(
                    variables, list(test.checks), test.expected, test.description, dict(test.tags)
                )
            )
        return tests

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
                root = load_document(path, shown)
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
        rows = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [cell.strip() for cell in next(rows)]
        except StopIteration:
            self.reader.problems.append(FileProblem(shown, 1, "the file is empty"))
            return []
        except csv.Error as error:
            self.reader.problems.append(FileProblem(shown, 1, f"not CSV: {error}"))
            return []
        for column in header:
            if column.startswith("__") and not _known_csv_column(column):
                self.omit(
                    1,
                    shown.rsplit("/", 1)[-1],
                    column,
                    "a column llmbench does not read",
                    path=shown,
                )
        tests = []
        try:
            for row in rows:
                line = rows.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if problem := field_count_problem(shown, line, row, header):
                    self.reader.problems.append(problem)
                    continue
                tests += self._csv_row(
                    dict(zip(header, row, strict=True)), shown, line, default_vars
                )
        except csv.Error as error:
            self.reader.problems.append(FileProblem(shown, rows.line_num, f"not CSV: {error}"))
        return tests

    def _csv_row(
        self, row: dict[str, str], shown: str, line: int, default_vars: dict[str, Any]
    ) -> list[CaseDoc]:
        where = f"row {line}"
        test = CaseDoc(dict(default_vars))
        test.vars.update({key: value for key, value in row.items() if not key.startswith("__")})
        loaded = self._var_files(test.vars, where, line, shown)
        if loaded is None:
            return []
        test.vars = loaded
        test.description = row.get("__description", "")
        test.tags = {
            key.split(":", 1)[1]: value
            for key, value in row.items()
            if key.startswith("__metadata:") and value
        }
        metric = row.get("__metric", "")
        for column in sorted(key for key in row if re.fullmatch(r"__expected\d*", key)):
            cell = row[column]
            if not cell.strip():
                continue
            try:
                data = assertion_from_string(cell)
            except Unconvertible as error:
                self.omit(line, f"{where}.{column}", cell[:40], str(error), path=shown)
                continue
            if metric:
                data["metric"] = metric
            if data["type"] == "equals" and column == "__expected" and test.expected is None:
                test.expected = str(data["value"])
            converted = self._one_assertion(data, f"{where}.{column}", line, shown)
            if converted is not None:
                test.checks.append(converted)
        if row.get("__threshold", "").strip():
            self.omit(
                line,
                where,
                "__threshold",
                "a test-level pass threshold has no place in a suite (every check must pass)",
                path=shown,
            )
        for column in ("__prefix", "__suffix"):
            if row.get(column, "").strip():
                self.omit(
                    line,
                    where,
                    column,
                    "prompt prefixes and suffixes are not converted",
                    path=shown,
                )
        return self._expand(test, where, line, shown)

    # assertions

    def _assertions(self, node: Node | None, where: str, *, path: str = "") -> list[dict[str, Any]]:
        if node is None:
            return []
        path = path or self.shown
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{where} must be a list of assertions", path=path)
            return []
        checks = []
        for index, item in enumerate(node.value):
            place = f"{where}[{index}]"
            data = self._plain(item, place, path=path)
            if not isinstance(data, dict):
                if data is not None:
                    self.fail(
                        item,
                        f"{place}: an assertion must be a mapping (type: ..., value: ...)",
                        path=path,
                    )
                continue
            converted = self._one_assertion(data, place, line_of(item), path)
            if converted is not None:
                checks.append(converted)
        return checks

    def _one_assertion(
        self, data: dict[str, Any], where: str, line: int, path: str
    ) -> dict[str, Any] | None:
        base = Path(path).parent
        try:
            converted: Converted = convert_assertion(data, lambda ref: read_value(base, ref))
        except Unconvertible as error:
            self.omit(line, where, assertion_type(data), str(error), path=path)
            return None
        for note in converted.notes:
            self.note(line, where, assertion_type(data), note, path=path)
        if converted.grader is not None:
            self.graders.append((converted.grader, where, line))
        return converted.check


def _known_csv_column(column: str) -> bool:
    return bool(
        re.fullmatch(r"__expected\d*", column)
        or column in ("__description", "__metric", "__threshold", "__prefix", "__suffix")
        or column.startswith("__metadata:")
    )


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
    return data
