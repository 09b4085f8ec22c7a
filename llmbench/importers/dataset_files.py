"""Dataset files: CSV (promptfoo's columns understood) and JSON lines, read all or nothing and
written so that reading them back gives exactly the cases written.

CSV: every column is a variable except these.

    __expected, __expected1, __expected2, ...   promptfoo's: one assertion per cell
        (`contains: refund`, `not-icontains: sorry`, `similar(0.8): text`, `is-json`,
        `llm-rubric: polite`); a cell naming no assertion is the golden answer
    __description                               tag `description`
    __metadata:NAME                             tag NAME
    __tags                                      ours: `task_type=summary;difficulty=hard`
    __golden                                    ours: the golden answer, never read as an assertion
    __checks                                    ours: a JSON list of checks (check_to_data's form)

JSONL: one object per line, {"vars": {...}, "expected": "...", "tags": {...}, "checks": [...]}
(only vars is required; "description" is the tag of that name).

Every bad row is reported as `file:line: message`, all of them, and nothing is returned.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data
from llmbench.core.models import Case
from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.file_problems import (
    FileProblem,
    PromptFileError,
    field_count_problem,
    read_text,
)
from llmbench.importers.promptfoo.assertion_strings import FormError, check_from_form, form_of

DatasetFormat = Literal["csv", "jsonl"]
DATASET_FORMATS: tuple[DatasetFormat, ...] = ("csv", "jsonl")
_EXPECTED_COLUMN = re.compile(r"^__expected\d*$")
_METADATA = "__metadata:"
_OUR_COLUMNS = ("__description", "__tags", "__golden", "__checks")
# promptfoo columns with no counterpart in a case (they change the prompt or the run).
_UNSUPPORTED = {
    "__prefix": "promptfoo's prompt prefix",
    "__suffix": "promptfoo's prompt suffix",
    "__providerOutput": "promptfoo's canned output",
    "__metric": "promptfoo's metric name",
    "__threshold": "promptfoo's test threshold",
}
_JSONL_KEYS = ("vars", "expected", "tags", "checks", "description")
_GOLDEN_HINT = "; a golden answer that starts like an assertion goes in a __golden column"


class DatasetFileError(PromptFileError):
    """The file cannot be imported; each problem names its file and line."""


class ExportRefused(ValueError):
    """The dataset cannot be written exactly in the format asked for; says why."""


@dataclass(frozen=True)
class CaseRecord:
    """One case as a file holds it."""

    vars: dict[str, Any]
    expected: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    checks: tuple[dict[str, Any], ...] = ()  # validated, in check_to_data's form
    where: str = ""  # file:line


def format_of(path: Path) -> DatasetFormat:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in DATASET_FORMATS:
        raise ValueError(f"{path.name}: a dataset file ends in .csv or .jsonl")
    return suffix  # type: ignore[return-value]


def read_dataset_file(path: Path, shown: str | None = None) -> list[CaseRecord]:
    """Every case of a .csv or .jsonl file; DatasetFileError lists every bad row."""
    shown = shown or str(path)
    try:
        fmt = format_of(path)
    except ValueError as error:
        raise DatasetFileError([FileProblem(shown, 1, str(error))]) from None
    text = read_text(path, shown, DatasetFileError)
    return parse_csv(text, shown) if fmt == "csv" else parse_jsonl(text, shown)


# -- CSV -------------------------------------------------------------------------------------


def parse_csv(text: str, shown: str) -> list[CaseRecord]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[FileProblem] = []
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise DatasetFileError([FileProblem(shown, 1, f"not CSV: {error}")]) from None
    if not header:
        raise DatasetFileError([FileProblem(shown, 1, "the file is empty: no cases to import")])
    problems.extend(FileProblem(shown, 1, message) for message in _header_problems(header))
    records: list[CaseRecord] = []
    unsupported: dict[str, int] = {}
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
        if not row:  # an empty line; a row of empty fields is a case
            continue
        if problem := field_count_problem(shown, start, row, header):
            problems.append(problem)
            continue
        cells = dict(zip(header, row, strict=True))
        for column in cells:
            if column in _UNSUPPORTED and cells[column].strip():
                unsupported[column] = unsupported.get(column, 0) + 1
        try:
            records.append(_csv_record(cells, f"{shown}:{start}"))
        except _RowProblems as error:
            problems.extend(FileProblem(shown, start, message) for message in error.messages)
    for column, rows in unsupported.items():
        problems.append(
            FileProblem(
                shown,
                1,
                f"column {column} ({_UNSUPPORTED[column]}) cannot be converted into a case; "
                f"remove it ({rows} row{'s' if rows != 1 else ''} use it)",
            )
        )
    if not records and not problems:
        problems.append(FileProblem(shown, 1, "no cases: the file has a header but no rows"))
    if problems:
        raise DatasetFileError(sorted(problems, key=lambda problem: problem.line))
    return records


def _header_problems(header: Sequence[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for column in header:
        if not column.strip():
            problems.append("a column has no name in the header")
        elif column in seen:
            problems.append(f"column {column!r} appears twice in the header")
        elif column.startswith(_METADATA) and not column[len(_METADATA) :].strip():
            problems.append(f"column {column!r} names no metadata field")
        elif (
            column.startswith("__")
            and not _EXPECTED_COLUMN.match(column)
            and not column.startswith(_METADATA)
            and column not in _OUR_COLUMNS
            and column not in _UNSUPPORTED
        ):
            problems.append(
                f"unknown special column {column!r} (known: __expected, __expected1.., "
                f"__description, __metadata:NAME, {', '.join(_OUR_COLUMNS[1:])})"
            )
        seen.add(column)
    return problems


class _RowProblems(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _csv_record(cells: Mapping[str, str], where: str) -> CaseRecord:
    messages: list[str] = []
    variables = {key: value for key, value in cells.items() if not key.startswith("__")}
    goldens: list[tuple[str, str]] = []
    checks: list[dict[str, Any]] = []
    tags: dict[str, str] = {}

    def tag(name: str, value: str, column: str) -> None:
        if name in tags:
            messages.append(f"tag {name!r} is given twice (again in {column})")
        tags[name] = value

    for column, value in cells.items():
        if _EXPECTED_COLUMN.match(column) and value.strip():
            try:
                check = check_from_form(value)
            except (FormError, CheckError) as error:
                misread = isinstance(error, CheckError) or getattr(error, "misread", False)
                messages.append(f"{column}: {error}{_GOLDEN_HINT if misread else ''}")
                continue
            if check is None:
                goldens.append((column, value))
            else:
                checks.append(check)
        elif column == "__golden" and value:
            goldens.append((column, value))
        elif column == "__checks" and value.strip():
            checks.extend(_json_checks(value, column, messages))
        elif column == "__description" and value:
            tag("description", value, column)
        elif column.startswith(_METADATA) and value:
            tag(column[len(_METADATA) :], value, column)
        elif column == "__tags" and value.strip():
            for name, tag_value in _tag_pairs(value, messages):
                tag(name, tag_value, column)
    if len(goldens) > 1:
        columns = " and ".join(column for column, _ in goldens)
        messages.append(
            f"two golden answers ({columns}): keep one, and write the other as a check "
            "(equals: ..., contains: ...)"
        )
    if messages:
        raise _RowProblems(messages)
    expected = goldens[0][1] if goldens else None
    return CaseRecord(variables, expected, tags, tuple(checks), where)


def _tag_pairs(text: str, messages: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        if not equals or not name.strip() or not value.strip():
            messages.append(f"__tags: {part.strip()!r} is not name=value (task_type=summary;...)")
            continue
        pairs.append((name.strip(), value.strip()))
    return pairs


def _json_checks(text: str, what: str, messages: list[str]) -> list[dict[str, Any]]:
    try:
        items = load_json(text)
    except ValueError as error:
        messages.append(f"{what}: not JSON ({error})")
        return []
    return _checks(items, what, messages)


def _checks(items: object, what: str, messages: list[str]) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        messages.append(f"{what} must be a list of checks")
        return []
    checks = []
    for index, item in enumerate(items, start=1):
        try:
            checks.append(check_to_data(parse_check(item, where=f"{what} {index}")))
        except CheckError as error:
            messages.append(str(error))
    return checks


# -- JSON lines ------------------------------------------------------------------------------


def parse_jsonl(text: str, shown: str) -> list[CaseRecord]:
    problems: list[FileProblem] = []
    records: list[CaseRecord] = []
    # Split on newlines only: str.splitlines would also split on U+2028 inside a JSON string.
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        try:
            data = load_json(raw)
        except NestingError as error:
            problems.append(FileProblem(shown, number, str(error)))
            continue
        except ValueError as error:
            problems.append(FileProblem(shown, number, f"not JSON: {error}"))
            continue
        messages: list[str] = []
        record = _json_record(data, f"{shown}:{number}", messages)
        if messages or record is None:
            problems.extend(FileProblem(shown, number, message) for message in messages)
        else:
            records.append(record)
    if not records and not problems:
        problems.append(FileProblem(shown, 1, "the file is empty: no cases to import"))
    if problems:
        raise DatasetFileError(problems)
    return records


def _json_record(data: object, where: str, messages: list[str]) -> CaseRecord | None:
    if not isinstance(data, dict):
        messages.append('each line must be a JSON object: {"vars": {...}, "expected": ...}')
        return None
    unknown = sorted(set(data) - set(_JSONL_KEYS))
    if unknown:
        messages.append(f"unknown field {unknown[0]!r} (known: {', '.join(_JSONL_KEYS)})")
    variables = data.get("vars")
    if not isinstance(variables, dict):
        messages.append('needs "vars", an object of the case\'s variables')
    expected = data.get("expected")
    if expected is not None and not isinstance(expected, str):
        expected = json.dumps(expected, ensure_ascii=False)
    tags = data.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        messages.append('"tags" must be an object of text values')
        tags = {}
    if "description" in data:
        if not isinstance(data["description"], str):
            messages.append('"description" must be text')
        elif "description" in tags:
            messages.append('the description is given twice (in "description" and in "tags")')
        else:
            tags = {**tags, "description": data["description"]}
    checks = _checks(data.get("checks") or [], "checks", messages)
    if messages or not isinstance(variables, dict):
        return None
    return CaseRecord(variables, expected, dict(tags), tuple(checks), where)


# -- writing ---------------------------------------------------------------------------------


def write_jsonl(cases: Sequence[Case], out: TextIO) -> None:
    for case in cases:
        row: dict[str, Any] = {"vars": case.vars}
        if case.expected is not None:
            row["expected"] = case.expected
        if case.tags:
            row["tags"] = case.tags
        if case.checks:
            row["checks"] = [dict(check) for check in case.checks]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def csv_problems(cases: Sequence[Case]) -> list[str]:
    """Why these cases cannot be written as CSV and read back exactly (empty: they can)."""
    problems = []
    names = list(cases[0].vars) if cases else []
    for case in cases:
        label = f"case {case.id}"
        if set(case.vars) != set(names):
            problems.append(f"{label} has other variables than case {cases[0].id}")
        for name, value in case.vars.items():
            if name.startswith("__"):
                problems.append(f"{label}: variable {name!r} would be read as a special column")
            if not isinstance(value, str):
                problems.append(f"{label}: variable {name!r} is not text")
        if case.expected == "":
            problems.append(f"{label}: an empty golden answer reads back as none")
        if any(not value for value in case.tags.values()):
            problems.append(f"{label}: an empty tag reads back as none")
    return problems


def write_csv(cases: Sequence[Case], out: TextIO) -> None:
    """promptfoo-style CSV; ExportRefused when it could not be read back exactly."""
    problems = csv_problems(cases)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        shown = "; ".join(problems[:3]) + more
        raise ExportRefused(f"CSV cannot hold this dataset exactly: {shown}; export to .jsonl")
    rows = [_csv_row(case) for case in cases]
    columns: list[str] = list(cases[0].vars) if cases else []
    for row in rows:
        columns.extend(column for column in row if column not in columns)
    # CRLF line ends (RFC 4180): the writer then quotes any field holding \r or \n alone.
    writer = csv.writer(out)
    writer.writerow(_ordered(columns))
    for row in rows:
        writer.writerow([row.get(column, "") for column in _ordered(columns)])


def _csv_row(case: Case) -> dict[str, str]:
    row: dict[str, str] = dict(case.vars)
    if case.expected is not None:
        # __expected skips blank cells and reads assertions: such golden answers go in __golden.
        try:
            readable = bool(case.expected.strip()) and check_from_form(case.expected) is None
        except (FormError, CheckError):
            readable = False
        row["__expected" if readable else "__golden"] = case.expected
    forms = [form_of(check) for check in case.checks]
    if all(form is not None for form in forms):
        row.update({f"__expected{index}": str(form) for index, form in enumerate(forms, 1)})
    else:
        row["__checks"] = json.dumps([dict(c) for c in case.checks], ensure_ascii=False)
    for name, value in case.tags.items():
        row["__description" if name == "description" else f"{_METADATA}{name}"] = value
    return row


def _ordered(columns: list[str]) -> list[str]:
    """Variables first, then the golden answer, the checks and the tags."""

    def rank(column: str) -> tuple[int, int]:
        if not column.startswith("__"):
            return (0, 0)
        if column in ("__expected", "__golden"):
            return (1, 0)
        if _EXPECTED_COLUMN.match(column):
            return (2, int(column[len("__expected") :]))
        if column == "__checks":
            return (3, 0)
        return (4, 0) if column == "__description" else (5, 0)

    return sorted(columns, key=rank)
