"""The CSV or JSONL dataset file a suite names (`dataset: cases.csv`), read as the suite's
cases; SuiteError names the line of each bad row.

CSV files take one column per variable, plus `expected` (or promptfoo's `__expected`),
`__description` and `tags` (JSON); JSONL lines are {"vars": {...}, "expected": ..., "tags":
{...}} or a flat object of variables.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmbench.importers.bounds import NestingError, load_json
from llmbench.importers.eval_suite_docs import SuiteError, TestDoc
from llmbench.importers.file_problems import FileProblem, field_count_problem

DATASET_SUFFIXES = (".csv", ".jsonl")
EXPECTED_COLUMNS = ("expected", "__expected")


def read_dataset_file(path: Path, shown: str) -> list[TestDoc]:
    """Cases from a CSV or JSONL file; SuiteError names the line of each bad row."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise SuiteError([FileProblem(shown, 1, f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise SuiteError([FileProblem(shown, 1, "not UTF-8 text")]) from None
    if path.suffix.lower() == ".csv":
        return _csv_tests(text, shown)
    return _jsonl_tests(text, shown)


def _csv_tests(text: str, shown: str) -> list[TestDoc]:
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except StopIteration:
        raise SuiteError([FileProblem(shown, 1, "the file is empty")]) from None
    problems = []
    tests = []
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if problem := field_count_problem(shown, line, row, header):
            problems.append(problem)
            continue
        values = dict(zip(header, row, strict=True))
        expected = next((values[c] for c in EXPECTED_COLUMNS if values.get(c)), None)
        tags: dict[str, str] = {}
        if values.get("tags"):
            try:
                tags = {str(k): str(v) for k, v in load_json(values["tags"]).items()}
            except (ValueError, AttributeError):
                problems.append(FileProblem(shown, line, "tags must be a JSON object"))
                continue
        if values.get("__description"):
            tags["description"] = values["__description"]
        variables = {
            key: value
            for key, value in values.items()
            if key not in EXPECTED_COLUMNS and key != "tags" and not key.startswith("__")
        }
        tests.append(TestDoc(variables, expected, (), tags, where=f"{shown}:{line}"))
    if problems:
        raise SuiteError(problems)
    return tests


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
        flat = {k: v for k, v in data.items() if k not in ("expected", "tags")}
        data = {"vars": flat, **{k: v for k, v in data.items() if k in ("expected", "tags")}}
    variables, expected, tags = data["vars"], data.get("expected"), data.get("tags") or {}
    if not isinstance(variables, dict):
        return "vars must be an object"
    if not isinstance(tags, dict):
        return "tags must be an object"
    if expected is not None and not isinstance(expected, str):
        expected = json.dumps(expected)
    return TestDoc(variables, expected, (), {str(k): str(v) for k, v in tags.items()}, where)
