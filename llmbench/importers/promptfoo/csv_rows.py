"""promptfoo test cases as they become llmbench cases: `CaseDoc`, the expansion of list vars
into one case per combination, `file://` vars, and one CSV row mapped as promptfoo's
`testCaseFromCsvRow` maps it (promptfoo 0.123.1):

- `__expected`, `__expected1` ... `__expectedN`: one assertion each, in column order, read as
  promptfoo reads an assertion string; `__config:__expected<N>:threshold` gives the N-th its
  threshold (`__expected` and `__expected1` are both the first); `__metric` names them all;
- `__metadata:key` is a tag; `__metadata:key[]` a list, split on commas (`\\,` is a comma
  inside an item), kept as a JSON list in the tag;
- `__description`; `__threshold` is the case's threshold (it passes when its weighted score
  reaches it); `__prefix`, `__suffix` are listed as not converted;
- every other column is a var.

Reading the file itself is importers/case_csv.py's business (`CaseReading._csv_tests` hands
each row it read to `_csv_row`); this maps the row's cells.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.check_spec import CheckError
from llmbench.importers.file_problems import FileProblem
from llmbench.importers.promptfoo.assertion_reading import AssertionReading
from llmbench.importers.promptfoo.assertions import (
    Unconvertible,
    absolute_transform,
    assertion_from_string,
)
from llmbench.importers.promptfoo.reading import read_value

MAX_EXPANDED_TESTS = 10_000
_EXPECTED = re.compile(r"^__expected(\d*)$")
_CONFIG = re.compile(r"^__config:(__expected\d*):(\w+)$")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


@dataclass
class CaseDoc:
    """One promptfoo test as it becomes one case of the suite."""

    vars: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    expected: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    origin: tuple[str, int, str] = ("", 0, "")  # (file, line, where) of the promptfoo test
    grading: dict[str, Any] = field(default_factory=dict)  # its own {transform, threshold}


def known_csv_column(column: str) -> bool:
    return bool(
        _EXPECTED.match(column)
        or column in ("__description", "__metric", "__threshold", "__prefix", "__suffix")
        or column.startswith(("__metadata:", "__config:"))
    )


def metadata_list(cell: str) -> list[str]:
    """A `__metadata:key[]` cell as promptfoo splits it."""
    return [item.strip().replace("\\,", ",") for item in _UNESCAPED_COMMA.split(cell)]


class CsvRowReading(AssertionReading):
    """Cases from test data: expansion, `file://` vars, and CSV rows."""

    def output_transform_of(self, value: Any, node: Any, where: str, path: str) -> str:
        """A test's (or defaultTest's) `options.transform` as the suite's `transform`, its file
        made absolute; "" (and a problem) when it is no transform."""
        if not isinstance(value, str) or not value.strip():
            why = f"a transform is JavaScript code or file://path, got {value!r}"
            self.fail(node, f"{where}: {why}", path=path)
            return ""
        try:
            return absolute_transform(value, self.base)
        except CheckError as error:
            self.fail(node, f"{where}: {error}", path=path)
            return ""

    @staticmethod
    def threshold_of(value: Any) -> float | None:
        """A test threshold as promptfoo takes it (a number; CSV text read as one)."""
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            return None
        return float(value)

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
                    variables,
                    list(test.checks),
                    test.expected,
                    test.description,
                    dict(test.tags),
                    test.origin,
                    dict(test.grading),
                )
            )
        return tests

    def _csv_row(
        self, row: dict[str, str], shown: str, line: int, default_vars: dict[str, Any]
    ) -> list[CaseDoc]:
        where = f"row {line}"
        row = {key.strip(): value for key, value in row.items()}
        test = CaseDoc(dict(default_vars), origin=(shown, line, where))
        test.vars.update({key: value for key, value in row.items() if not key.startswith("__")})
        loaded = self._var_files(test.vars, where, line, shown)
        left_out = "" if loaded is not None else "the test is left out: a var file cannot be read"
        test.vars = loaded or test.vars
        test.description = row.get("__description", "")
        test.tags = _tags(row)
        thresholds = self._csv_thresholds(row)
        metric = row.get("__metric", "")
        index = 0  # promptfoo numbers the assertions of a row in column order, empty cells out
        for column, cell in row.items():
            if not _EXPECTED.match(column) or not cell.strip():
                continue
            place = f"{where}.{column}"
            try:
                data = assertion_from_string(cell.strip())
            except Unconvertible as error:
                self.omit(line, place, cell.strip()[:40], str(error), path=shown)
                index += 1
                continue
            if metric:
                data["metric"] = metric
            if index in thresholds:
                data["threshold"] = thresholds[index]
            index += 1
            if data["type"] == "equals" and column == "__expected" and test.expected is None:
                test.expected = str(data["value"])
            test.checks += self._assertion(data, place, line, shown, left_out)
        if row.get("__threshold", "").strip():
            threshold = self.threshold_of(row["__threshold"])
            if threshold is None:
                why = f"{where}: __threshold must be a number: {row['__threshold']!r}"
                self.reader.problems.append(FileProblem(shown, line, why))
            else:
                test.grading["threshold"] = threshold
        for column in ("__prefix", "__suffix"):
            if row.get(column, "").strip():
                self.omit(
                    line, where, column, "prompt prefixes and suffixes are not converted",
                    path=shown,
                )  # fmt: skip
        return [] if left_out else self._expand(test, where, line, shown)

    def _csv_thresholds(self, row: dict[str, str]) -> dict[int, float]:
        """`__config:__expected<N>:threshold` cells: assertion index -> threshold. A column or
        value that is not one is the CSV reader's problem to report (importers/case_csv.py)."""
        thresholds: dict[int, float] = {}
        for column, cell in row.items():
            match = _CONFIG.match(column)
            if match is None or match[2] != "threshold":
                continue
            number = match[1][len("__expected") :]
            try:
                thresholds[max(int(number) - 1 if number else 0, 0)] = float(cell.strip())
            except ValueError:
                continue
        return thresholds


def _tags(row: dict[str, str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for column, cell in row.items():
        if not column.startswith("__metadata:") or not cell.strip():
            continue
        key = column[len("__metadata:") :]
        if key.endswith("[]"):
            tags[key[:-2]] = json.dumps(metadata_list(cell), ensure_ascii=False)
        else:
            tags[key] = cell
    return tags
