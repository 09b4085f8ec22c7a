"""Dataset files: CSV (promptfoo's columns understood) and JSON lines, read all or nothing and
written so that reading them back gives exactly the cases written.

CSV is read by importers/case_csv.py, the reader every importer shares; every column is a
variable except these.

    __expected, __expected1, __expected2, ...   promptfoo's: one assertion per cell
        (`contains: refund`, `not-icontains: sorry`, `similar(0.8): text`, `is-json`,
        `llm-rubric: polite`); a cell naming no assertion is the golden answer
    __description                               tag `description`
    __metadata:NAME, __metadata:NAME[]          tag NAME (a list as JSON text)
    __metric                                    the name of the row's checks
    __config:__expectedN:threshold              that column's check's threshold
    __tags                                      ours: `task_type=summary;difficulty=hard`
    __golden                                    ours: the golden answer, never read as an assertion
    __checks                                    ours: a JSON list of checks (check_to_data's form)

promptfoo's __prefix, __suffix, __providerOutput and __threshold change the prompt or the run: a
case has no place for them, and a file that uses them is refused with that reason.

JSONL: one object per line, {"vars": {...}, "expected": "...", "tags": {...}, "checks": [...]}
(only vars is required; "description" is the tag of that name). A line may give the case the
tools its requests send, over the run's: "tools" (OpenAI's function tools) and "tool_choice",
checked as a suite's are (importers/eval_suite_tools.py); its checks can then expect tool calls
(`tool-call`, `tool-call-f1`). CSV has no column for them: such a dataset exports to JSONL only.

Every bad row is reported as `file:line: message`, all of them, and nothing is returned.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from llmbench.core.models import Case
from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.case_csv import is_prose, read_case_csv
from llmbench.importers.case_csv_checks import (
    LLMBENCH_COLUMNS,
    checks_from_data,
    llmbench_cases,
)
from llmbench.importers.eval_suite_datasets import case_tools
from llmbench.importers.file_problems import FileProblem, PromptFileError, read_text
from llmbench.importers.promptfoo.assertion_strings import form_of

DatasetFormat = Literal["csv", "jsonl"]
DATASET_FORMATS: tuple[DatasetFormat, ...] = ("csv", "jsonl")
_EXPECTED_COLUMN = re.compile(r"^__expected\d*$")
_METADATA = "__metadata:"
_JSONL_KEYS = ("vars", "expected", "tags", "checks", "description", "tools", "tool_choice")


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
    params: dict[str, Any] = field(default_factory=dict)  # its own tools and tool_choice


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
    """The cases of a CSV file, read by importers/case_csv.py (the reader every importer
    shares); DatasetFileError lists every bad row."""
    table = read_case_csv(text, shown, own_columns=LLMBENCH_COLUMNS)
    cases, problems = llmbench_cases(table)
    if not table.cases and not problems:
        problems.append(FileProblem(shown, 1, "no cases: the file has a header but no rows"))
    if problems:
        raise DatasetFileError(problems)
    return [
        CaseRecord(case.vars, case.expected, case.tags, case.checks, f"{shown}:{case.line}")
        for case in cases
    ]


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
    checks = checks_from_data(data.get("checks") or [], "checks", messages)
    params = case_tools(data)
    if isinstance(params, str):
        messages.append(params)
    if messages or not isinstance(variables, dict) or isinstance(params, str):
        return None
    return CaseRecord(variables, expected, dict(tags), tuple(checks), where, params)


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
        row.update(case.params)  # its tools and tool_choice, as a line gives them
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
            elif not name or name != name.strip():
                problems.append(f"{label}: variable {name!r} reads back with its spaces trimmed")
            if not isinstance(value, str):
                problems.append(f"{label}: variable {name!r} is not text")
        if case.expected == "":
            problems.append(f"{label}: an empty golden answer reads back as none")
        if case.params:
            problems.append(f"{label} sends tools of its own, which CSV has no column for")
        if any(not value for value in case.tags.values()):
            problems.append(f"{label}: an empty tag reads back as none")
        for name in case.tags:
            if name != "description" and (name != name.strip() or name.endswith("[]") or not name):
                problems.append(f"{label}: tag {name!r} cannot be a CSV column name")
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
        row["__expected" if is_prose(case.expected) else "__golden"] = case.expected
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
