"""Rows of a test-case CSV (importers/case_csv.py) as llmbench cases: what dataset files
(importers/dataset_files.py) and eval suites (importers/eval_suite_datasets.py) both import.

A prose `__expected` cell (promptfoo's `equals`) is the case's golden answer, as are `__golden`
and a suite's `expected`; every other `__expected` cell is a check (check_from_form, the
llmbench side of promptfoo's compact assertion strings), with its `__config` threshold and the
row's `__metric`; `__checks` holds more checks as JSON. `__description`, `__metadata:*` (a list
as JSON text), `__tags` (`name=value;...`) and a suite's `tags` (a JSON object) are its tags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError, check_to_data
from llmbench.importers.bounds import load_json
from llmbench.importers.case_csv import (
    METADATA_PREFIX,
    PROMPTFOO_COLUMNS,
    CaseTable,
    CsvCase,
    ExpectedCell,
)
from llmbench.importers.file_problems import FileProblem
from llmbench.importers.promptfoo.assertion_strings import FormError, check_from_form

LLMBENCH_COLUMNS = ("__tags", "__golden", "__checks")
GOLDEN_HINT = "; a golden answer that starts like an assertion goes in a __golden column"
# promptfoo columns that change the prompt or the run: a case has no place for them.
_NOT_IN_A_CASE = ("__prefix", "__suffix", "__providerOutput", "__threshold")


@dataclass(frozen=True)
class LlmbenchCase:
    """A CSV row as an llmbench case: checks in check_to_data's form, tags as text."""

    vars: dict[str, str]
    expected: str | None
    tags: dict[str, str]
    checks: tuple[dict[str, Any], ...]
    line: int


def llmbench_cases(table: CaseTable) -> tuple[list[LlmbenchCase], list[FileProblem]]:
    """Every row of the table as an llmbench case, and every problem of the file, its columns
    and its rows (sorted by line): the caller keeps the cases only when there is none."""
    problems = [*table.problems, *column_problems(table)]
    cases = []
    for row in table.cases:
        messages: list[str] = []
        case = llmbench_case(row, messages)
        problems += [FileProblem(table.shown, row.line, message) for message in messages]
        if not messages:
            cases.append(case)
    return cases, sorted(problems, key=lambda problem: problem.line)


def column_problems(table: CaseTable) -> list[FileProblem]:
    """A problem for each unknown "__" column, and for each promptfoo column that has no place
    in a case and that a row uses."""
    known = (
        f"__expected, __expected1.., __description, __metadata:NAME, {', '.join(LLMBENCH_COLUMNS)}"
    )
    problems = [
        FileProblem(table.shown, 1, f"unknown special column {column!r} (known: {known})")
        for column in table.unknown_columns
    ]
    for column in _NOT_IN_A_CASE:
        rows = sum(1 for case in table.cases if _used(case, column))
        if rows:
            problems.append(
                FileProblem(
                    table.shown,
                    1,
                    f"column {column} ({PROMPTFOO_COLUMNS[column]}) cannot be converted into a "
                    f"case; remove it ({rows} row{'s' if rows != 1 else ''} use it)",
                )
            )
    return problems


def _used(case: CsvCase, column: str) -> bool:
    value = {
        "__prefix": case.prefix,
        "__suffix": case.suffix,
        "__providerOutput": case.provider_output,
        "__threshold": case.threshold,
    }[column]
    return value is not None


def llmbench_case(case: CsvCase, messages: list[str]) -> LlmbenchCase:
    """The case a row stands for: a prose `__expected` (or `__golden`, or a suite's `expected`)
    is the golden answer, every other `__expected` cell a check, and `__checks` more of them;
    `__description`, `__metadata:*`, `__tags` (and a suite's JSON `tags`) its tags."""
    goldens: list[tuple[str, str]] = []
    checks: list[dict[str, Any]] = []
    tags: dict[str, str] = {}

    def tag(name: str, value: str, column: str) -> None:
        if name in tags:
            messages.append(f"tag {name!r} is given twice (again in {column})")
        tags[name] = value

    cells = {cell.column: cell for cell in case.expected}
    for column, value in case.cells.items():  # in the header's order, as tags are listed
        if column in cells:
            if not cells[column].names_assertion:
                goldens.append((column, cells[column].text))
            elif (check := _check(cells[column], messages)) is not None:
                checks.append(check)
        elif column in ("__golden", "expected") and column in case.own and value:
            goldens.append((column, value))
        elif column == "__checks" and column in case.own and value.strip():
            checks.extend(json_checks(value, column, messages))
        elif column == "__tags" and column in case.own and value.strip():
            for name, tag_value in _tag_pairs(value, messages):
                tag(name, tag_value, column)
        elif column == "tags" and column in case.own and value.strip():
            for name, tag_value in _json_tags(value, messages):
                tag(name, tag_value, column)
        elif column == "__description" and case.description:
            tag("description", case.description, column)
        elif column.startswith(METADATA_PREFIX):
            key = column[len(METADATA_PREFIX) :].strip().removesuffix("[]").strip()
            if key in case.metadata:
                item = case.metadata[key]
                text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
                tag(key, text, column)
    if case.metric:
        if not checks:
            messages.append("__metric: the row has no check for the metric to name")
        checks = [{**check, "metric": case.metric} for check in checks]
    if len(goldens) > 1:
        columns = " and ".join(column for column, _ in goldens)
        messages.append(
            f"two golden answers ({columns}): keep one, and write the other as a check "
            "(equals: ..., contains: ...)"
        )
    expected = goldens[0][1] if goldens else None
    return LlmbenchCase(case.vars, expected, tags, tuple(checks), case.line)


def _check(cell: ExpectedCell, messages: list[str]) -> dict[str, Any] | None:
    """An `__expected` cell naming an assertion as llmbench's check, or None (and why)."""
    if cell.error:
        messages.append(f"{cell.column}: {cell.error}")
        return None
    try:
        check = check_from_form(cell.text.strip())
        if check is None:
            raise FormError(
                f"promptfoo's {cell.assertion['type']!r} assertion has no llmbench check",
                misread=True,
            )
        # promptfoo's reading decides the threshold: its CSV default for `similar` (0.8), and
        # each __config key set on the assertion over the cell's own.
        updates = dict(cell.config)
        if "threshold" in check and "threshold" in cell.assertion:
            updates["threshold"] = cell.assertion["threshold"]
        if any(check.get(key) != value for key, value in updates.items()):
            check = check_to_data(parse_check({**_typed(check), **updates}))
    except (FormError, CheckError) as error:
        misread = isinstance(error, CheckError) or getattr(error, "misread", False)
        messages.append(f"{cell.column}: {error}{GOLDEN_HINT if misread else ''}")
        return None
    return check


def _typed(check: Mapping[str, Any]) -> dict[str, Any]:
    """check_to_data's form ("kind") as parse_check reads it ("type")."""
    data = dict(check)
    return {"type": data.pop("kind"), **data}


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


def _json_tags(text: str, messages: list[str]) -> list[tuple[str, str]]:
    try:
        data = load_json(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        messages.append('tags must be a JSON object: {"name": "value", ...}')
        return []
    return [(str(key), str(value)) for key, value in data.items()]


def json_checks(text: str, what: str, messages: list[str]) -> list[dict[str, Any]]:
    """The checks of a JSON list (check_to_data's form, validated); problems to messages."""
    try:
        items = load_json(text)
    except ValueError as error:
        messages.append(f"{what}: not JSON ({error})")
        return []
    return checks_from_data(items, what, messages)


def checks_from_data(items: object, what: str, messages: list[str]) -> list[dict[str, Any]]:
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
