"""Test cases in a CSV file, read one way for every importer: dataset files
(importers/dataset_files.py), an eval suite's `dataset:` file (importers/eval_suite_datasets.py)
and promptfoo's `tests: file://….csv` (importers/promptfoo/cases.py). Each maps the typed rows
read here (`CsvCase`) to its own cases; importers/case_csv_checks.py is the mapping to
llmbench's cases and checks that dataset files and suites share.

The columns are promptfoo's ("Loading tests from CSV", its test-case docs and src/csv.ts):

    NAME                             a variable (any column not starting with "__")
    __expected, __expected1, ...     one assertion per cell, `[not-]type[(threshold)][: value]`
                                     (assertion_from_string); text that names no assertion
                                     type is promptfoo's `equals`; a blank cell is no assertion
    __description                    the test's description
    __metric                         the name every assertion of the row reports under
    __threshold                      the test's pass threshold (a number)
    __prefix, __suffix               text put before / after the prompt
    __providerOutput                 a canned output instead of a model call
    __metadata:KEY                   metadata KEY (a blank cell sets nothing)
    __metadata:KEY[]                 metadata KEY as a list: the cell split on commas, `\\,` for
                                     a comma inside an item
    __config:__expectedN:threshold   the threshold of the row's N-th assertion (promptfoo
                                     counts the non-blank __expected* cells in column order;
                                     __expected and __expected1 are both the first);
                                     `threshold` is the one key promptfoo accepts

plus the columns a caller names as its own (`own_columns`: llmbench's `__golden`, `__checks`,
`__tags`; a suite's plain `expected` and `tags`), handed over untouched in `CsvCase.own`.

The file: UTF-8 with or without a byte-order mark, RFC 4180 quoting (a quoted cell may hold
commas, "" and line breaks; a quote inside an unquoted cell is kept as it is, as promptfoo's
relaxed reading does), CRLF or LF line ends, empty lines skipped (a row of empty cells is a
case), header names trimmed. Every problem is a `FileProblem` with the line it is on, all of them
at once; a caller imports nothing when there is any (all or nothing).

Where this reader is stricter than promptfoo, it says so instead of guessing: a duplicate or
empty header name, `__metadata:` with no key, two columns for one metadata key, and a
`__threshold` or `__config` value that is not a number are problems (promptfoo keeps the last
duplicate or silently drops the value). A cell that cannot be read as an assertion is not a
problem here: `ExpectedCell.error` says why, and the caller decides (a dataset refuses the
file, the promptfoo importer lists the assertion as not converted).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmbench.importers.file_problems import FileProblem, field_count_problem
from llmbench.importers.promptfoo.assertions import Unconvertible, assertion_from_string

EXPECTED_COLUMN = re.compile(r"^__expected\d*$")
METADATA_PREFIX = "__metadata:"
CONFIG_PREFIX = "__config:"
CONFIG_KEYS = ("threshold",)
# promptfoo's single-value columns, and what each is.
PROMPTFOO_COLUMNS: dict[str, str] = {
    "__description": "the test's description",
    "__metric": "promptfoo's metric name",
    "__threshold": "promptfoo's test threshold",
    "__prefix": "promptfoo's prompt prefix",
    "__suffix": "promptfoo's prompt suffix",
    "__providerOutput": "promptfoo's canned output",
}
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


@dataclass(frozen=True)
class ExpectedCell:
    """One non-blank `__expected*` cell."""

    column: str
    text: str  # the cell as written
    assertion: dict[str, Any]  # promptfoo's assertion, with the row's metric and its __config
    names_assertion: bool  # False: prose, promptfoo's `equals` (llmbench's golden answer)
    config: dict[str, float] = field(default_factory=dict)  # from its __config cells
    error: str = ""  # why the cell cannot be read as an assertion (assertion is then empty)


@dataclass(frozen=True)
class CsvCase:
    """One row of a test-case CSV, read; `line` is the line the row starts on."""

    line: int
    vars: dict[str, str]
    expected: tuple[ExpectedCell, ...] = ()
    description: str | None = None
    metric: str | None = None
    threshold: float | None = None
    prefix: str | None = None
    suffix: str | None = None
    provider_output: str | None = None
    metadata: dict[str, str | list[str]] = field(default_factory=dict)
    own: dict[str, str] = field(default_factory=dict)  # the caller's own columns, as written
    cells: dict[str, str] = field(default_factory=dict)  # the whole row, as written


@dataclass(frozen=True)
class CaseTable:
    """What a test-case CSV holds: every row that could be read, and every problem found."""

    shown: str
    columns: tuple[str, ...]
    cases: tuple[CsvCase, ...]
    problems: tuple[FileProblem, ...]
    unknown_columns: tuple[str, ...] = ()  # "__" columns neither promptfoo's nor the caller's


def is_prose(cell: str) -> bool:
    """Whether an `__expected` cell reads as plain text (an `equals`, llmbench's golden answer)
    rather than as an assertion: the question a writer asks before putting text there."""
    text = cell.strip()
    if not text:
        return False
    try:
        return assertion_from_string(text) == {"type": "equals", "value": text}
    except Unconvertible:
        return False


def read_case_csv(text: str, shown: str, *, own_columns: Collection[str] = ()) -> CaseTable:
    """Every row of a test-case CSV (its text, a byte-order mark already dropped or not)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[FileProblem] = []
    try:
        raw_header = next(reader, None)
    except csv.Error as error:
        return CaseTable(shown, (), (), (FileProblem(shown, 1, f"not CSV: {error}"),))
    if not raw_header or not any(name.strip() for name in raw_header):
        problem = FileProblem(shown, 1, "the file is empty: no cases to import")
        return CaseTable(shown, (), (), (problem,))
    header = tuple(name.strip() for name in raw_header)
    own = frozenset(own_columns)
    unknown, configs = _header(header, own, shown, problems)
    cases: list[CsvCase] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(FileProblem(shown, line, f"not CSV: {error}"))
            break
        start, line = line, reader.line_num + 1
        if not row:  # an empty line; a row of empty cells is a case
            continue
        if problem := field_count_problem(shown, start, row, header):
            problems.append(problem)
            continue
        messages: list[str] = []
        case = _case(dict(zip(header, row, strict=True)), start, own, configs, messages)
        problems.extend(FileProblem(shown, start, message) for message in messages)
        if not messages:
            cases.append(case)
    return CaseTable(shown, header, tuple(cases), tuple(problems), tuple(unknown))


def _header(
    header: tuple[str, ...], own: frozenset[str], shown: str, problems: list[FileProblem]
) -> tuple[list[str], dict[str, int]]:
    """The header's problems; its unknown "__" columns (a bare `__metadata` is one, as promptfoo
    ignores it); the assertion each __config column sets."""
    unknown: list[str] = []
    configs: dict[str, int] = {}
    seen: set[str] = set()
    metadata_keys: set[str] = set()
    for name in header:
        message = None
        if not name:
            message = "a column has no name in the header"
        elif name in seen:
            message = f"column {name!r} appears twice in the header"
        elif name in own or not name.startswith("__"):
            pass
        elif name.startswith(METADATA_PREFIX):
            key = name[len(METADATA_PREFIX) :].removesuffix("[]").strip()
            if not key:
                message = f"column {name!r} names no metadata field"
            elif key in metadata_keys:
                message = f"metadata {key!r} is given by two columns"
            metadata_keys.add(key)
        elif name.startswith(CONFIG_PREFIX):
            message = _config_problem(name)
            if message is None:
                configs[name] = _assertion_index(name.split(":")[1])
        elif not EXPECTED_COLUMN.match(name) and name not in PROMPTFOO_COLUMNS:
            unknown.append(name)
        seen.add(name)
        if message:
            problems.append(FileProblem(shown, 1, message))
    return unknown, configs


def _config_problem(name: str) -> str | None:
    parts = name[len(CONFIG_PREFIX) :].split(":")
    if len(parts) != 2 or not EXPECTED_COLUMN.match(parts[0]):
        return f"column {name!r}: write __config:__expected:threshold or __config:__expectedN:KEY"
    if parts[1] not in CONFIG_KEYS:
        return f"column {name!r}: unknown key {parts[1]!r} (promptfoo's: {', '.join(CONFIG_KEYS)})"
    return None


def _assertion_index(target: str) -> int:
    """promptfoo's rule: `__expected` and `__expected1` set the row's first assertion,
    `__expectedN` its N-th, counting the non-blank `__expected*` cells in column order."""
    number = target[len("__expected") :]
    return max(int(number) - 1, 0) if number else 0


def _case(
    cells: Mapping[str, str],
    line: int,
    own: frozenset[str],
    configs: Mapping[str, int],
    messages: list[str],
) -> CsvCase:
    variables: dict[str, str] = {}
    own_cells: dict[str, str] = {}
    metadata: dict[str, str | list[str]] = {}
    for name, value in cells.items():
        if name in own:
            own_cells[name] = value
        elif not name.startswith("__"):
            variables[name] = value
        elif name.startswith(METADATA_PREFIX):
            key = name[len(METADATA_PREFIX) :].strip()
            if key.endswith("[]") and value.strip():
                metadata[key[:-2].strip()] = _metadata_list(value)
            elif not key.endswith("[]") and value:  # kept as written, so exports read back
                metadata[key] = value
    metric = cells.get("__metric", "").strip() or None
    threshold = _number(cells.get("__threshold", ""), "__threshold", messages)
    config: dict[int, dict[str, float]] = {}
    for column, index in configs.items():
        number = _number(cells[column], column, messages)
        if number is not None:
            config.setdefault(index, {})[column.rsplit(":", 1)[1]] = number
    written = [
        (name, value)
        for name, value in cells.items()
        if EXPECTED_COLUMN.match(name) and name not in own and value.strip()
    ]
    expected = tuple(
        _expected_cell(name, value, metric, config.get(index, {}))
        for index, (name, value) in enumerate(written)
    )
    return CsvCase(
        line,
        variables,
        expected,
        cells.get("__description") or None,
        metric,
        threshold,
        _given(cells, "__prefix"),
        _given(cells, "__suffix"),
        _given(cells, "__providerOutput"),
        metadata,
        own_cells,
        dict(cells),
    )


def _given(cells: Mapping[str, str], name: str) -> str | None:
    value = cells.get(name)
    return value if value else None


def _metadata_list(value: str) -> list[str]:
    """promptfoo's `__metadata:KEY[]`: items split on commas, `\\,` a comma inside one."""
    return [item.strip().replace("\\,", ",") for item in _UNESCAPED_COMMA.split(value)]


def _number(text: str, column: str, messages: list[str]) -> float | None:
    if not text.strip():
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        messages.append(f"{column}: {text.strip()!r} is not a number")
        return None
    return number


def _expected_cell(
    column: str, value: str, metric: str | None, config: Mapping[str, float]
) -> ExpectedCell:
    text = value.strip()  # promptfoo trims a cell before reading it
    try:
        assertion = assertion_from_string(text)
    except Unconvertible as error:
        return ExpectedCell(column, value, {}, True, dict(config), str(error))
    names_assertion = assertion != {"type": "equals", "value": text}
    if metric:
        assertion["metric"] = metric
    assertion.update(config)
    return ExpectedCell(column, value, assertion, names_assertion, dict(config))
