"""The CSV or JSONL dataset file a suite names (`dataset: cases.csv`), read as the suite's
cases; SuiteError names the line of each bad row, all of them, and no case is kept.

CSV files are read by importers/case_csv.py, the reader every importer shares, with the columns
of a dataset file (importers/dataset_files.py): one column per variable, promptfoo's
`__expected` cells (an assertion is a check of the case, other text its golden answer),
`__description` and `__metadata:*`, llmbench's `__golden`, `__checks` and `__tags`, and a
suite's own `expected` (the golden answer, as written) and `tags` (a JSON object). JSONL lines
are {"vars": {...}, "expected": ..., "tags": {...}} or a flat object of variables. A line with
"vars" may also give the case its own checks and the tools its requests send, over the suite's
(as a suite's inline test does, importers/eval_suite_tools.py):

    {"vars": {"question": "Time in Oslo?"}, "tools": [{"type": "function", "function": {...}}],
     "tool_choice": "required", "checks": [{"type": "tool-call-f1", "value": ["get_time"]}]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmbench.core.evaluation.tool_checks import choice_problem, tools_problem
from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.case_csv import read_case_csv
from llmbench.importers.case_csv_checks import (
    LLMBENCH_COLUMNS,
    checks_from_data,
    llmbench_cases,
)
from llmbench.importers.eval_suite_docs import SuiteError, TestDoc
from llmbench.importers.file_problems import FileProblem, read_text

DATASET_SUFFIXES = (".csv", ".jsonl")
SUITE_COLUMNS = ("expected", "tags")


def read_dataset_file(path: Path, shown: str) -> list[TestDoc]:
    """Cases from a CSV or JSONL file; SuiteError names the line of each bad row."""
    text = read_text(path, shown, SuiteError)
    if path.suffix.lower() == ".csv":
        return _csv_tests(text, shown)
    return _jsonl_tests(text, shown)


def _csv_tests(text: str, shown: str) -> list[TestDoc]:
    table = read_case_csv(text, shown, own_columns=(*LLMBENCH_COLUMNS, *SUITE_COLUMNS))
    cases, problems = llmbench_cases(table)
    if problems:
        raise SuiteError(problems)
    return [
        TestDoc(case.vars, case.expected, case.checks, case.tags, where=f"{shown}:{case.line}")
        for case in cases
    ]


def _jsonl_tests(text: str, shown: str) -> list[TestDoc]:
    problems = []
    tests = []
    for number, raw in enumerate(text.splitlines(), start=1):
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
        if not isinstance(data, dict):
            problems.append(FileProblem(shown, number, "each line must be a JSON object"))
            continue
        test = _json_test(data, f"{shown}:{number}")
        if isinstance(test, str):
            problems.append(FileProblem(shown, number, test))
        else:
            tests.append(test)
    if problems:
        raise SuiteError(problems)
    return tests


def _json_test(data: Mapping[str, Any], where: str) -> TestDoc | str:
    if "vars" not in data:
        # A flat object is all variables: "checks" or "tools" there is a variable's name.
        flat = {k: v for k, v in data.items() if k not in ("expected", "tags")}
        data = {"vars": flat, **{k: v for k, v in data.items() if k in ("expected", "tags")}}
    variables, expected, tags = data["vars"], data.get("expected"), data.get("tags") or {}
    if not isinstance(variables, dict):
        return "vars must be an object"
    if not isinstance(tags, dict):
        return "tags must be an object"
    if expected is not None and not isinstance(expected, str):
        expected = json.dumps(expected)
    params = case_tools(data)
    if isinstance(params, str):
        return params
    messages: list[str] = []
    checks = checks_from_data(data.get("checks") or [], "checks", messages)
    if messages:
        return "; ".join(messages)
    shown_tags = {str(k): str(v) for k, v in tags.items()}
    return TestDoc(variables, expected, tuple(checks), shown_tags, where, params=params)


def case_tools(data: Mapping[str, Any]) -> dict[str, Any] | str:
    """A JSONL line's own `tools` and `tool_choice` as request params, or why they are wrong
    (the suite's dataset files and importers/dataset_files.py read them alike)."""
    params: dict[str, Any] = {}
    if "tools" in data:
        if problem := tools_problem(data["tools"]):
            return problem
        params["tools"] = [{"type": "function", **tool} for tool in data["tools"]]
    if "tool_choice" in data:
        if problem := choice_problem(data["tool_choice"], params.get("tools")):
            return problem
        params["tool_choice"] = data["tool_choice"]
    return params
