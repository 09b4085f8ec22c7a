"""`llmbench eval`: exit 0 when the suite passes, 1 when checks fail or a case regressed,
2 for bad input; its JSON, CSV and JUnit outputs."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.gateway.client import shutdown_sync
from llmbench.store.db import open_db

TESTS = """\
tests:
  - vars: {ticket: My parcel never arrived}
    expected: parcel
  - vars: {ticket: I was charged twice}
  - vars: {ticket: How do I reset my password}
"""
# Echo answers with the prompt, so a check on the ticket passes exactly when the prompt shows it.
GOOD = (
    """\
name: tickets
prompts:
  - name: support-reply
    sections: {role: You answer support tickets., task: "Ticket: {{ ticket }}"}
models: [llmbench/echo]
checks: [{type: icontains, value: "{{ ticket }}"}]
"""
    + TESTS
)
# The same suite (same name, so the same cases) with a prompt that drops one ticket's text.
WORSE = GOOD.replace(
    'task: "Ticket: {{ ticket }}"',
    "task: \"{{ 'a ticket' if 'parcel' in ticket else 'Ticket: ' + ticket }}\"",
)


@pytest.fixture(autouse=True)
def finish_gateway() -> Iterator[None]:
    yield
    shutdown_sync()


def _eval(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", str(tmp_path / "eval.db"), "eval", *args], prog_name="llmbench"
    )


def _suite(tmp_path: Path, text: str, name: str = "suite.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_passing_suite_exits_0_and_writes_junit(tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    result = _eval(tmp_path, _suite(tmp_path, GOOD), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "PASS (pass rate 100.0%)" in result.output
    assert "support-reply@1" in result.output and "llmbench/echo" in result.output
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "support-reply@1 × llmbench/echo"
    cases = suite.findall("testcase")
    assert len(cases) == 3
    for case in cases:
        assert case.get("classname") == "support-reply@1.llmbench/echo"
        assert case.get("name", "").startswith("case ")
        assert float(case.get("time", "x")) >= 0
        assert case.find("failure") is None and case.find("error") is None
        assert "Ticket:" in (case.findtext("system-out") or "")


def test_failing_checks_exit_1_and_junit_counts_the_failures(tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    result = _eval(tmp_path, _suite(tmp_path, WORSE), "-o", str(out))
    assert result.exit_code == 1, result.output
    assert "FAIL: pass rate 66.7% is under the required 100.0%" in result.output
    root = ET.parse(out).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    failures = root.findall("./testsuite/testcase/failure")
    assert len(failures) == 1
    assert failures[0].get("type") == "check"
    assert "icontains" in (failures[0].get("message") or "")
    # Allowed by --fail-under, the same run passes.
    assert _eval(tmp_path, _suite(tmp_path, WORSE), "--fail-under", "60%").exit_code == 0
    assert _eval(tmp_path, _suite(tmp_path, WORSE), "--fail-under", "0.7").exit_code == 1


def test_a_regression_against_the_baseline_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert _eval(tmp_path, _suite(tmp_path, GOOD)).exit_code == 0  # run 1
    result = _eval(
        tmp_path, _suite(tmp_path, WORSE), "--baseline", "1", "--fail-under", "0", "-o", str(out)
    )
    assert result.exit_code == 1, result.output
    assert "1 regression" in result.output
    assert "1 case passed in the baseline run and fails now" in result.output
    report = json.loads(out.read_text())
    assert report["run"]["id"] == 2 and report["run"]["baseline_run_id"] == 1
    assert report["migration"]["paired_cases"] == 3
    assert len(report["migration"]["regressions"]) == 1
    assert report["migration"]["verdict"].startswith("candidate is 33.3 points worse")
    assert len(report["cells"]) == 3 and len(report["scoreboard"]) == 1
    # The other way round: the fix is reported and nothing regressed.
    back = _eval(tmp_path, _suite(tmp_path, GOOD), "--baseline", "2")
    assert back.exit_code == 0, back.output
    assert "0 regressions, 1 fixed" in back.output


def test_csv_output_has_one_row_per_cell(tmp_path: Path) -> None:
    out = tmp_path / "cells.csv"
    assert _eval(tmp_path, _suite(tmp_path, WORSE), "-o", str(out)).exit_code == 1
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3
    assert sorted(row["passed"] for row in rows) == ["0", "1", "1"]
    assert {row["prompt"] for row in rows} == {"support-reply@1"}


@pytest.mark.parametrize(
    ("suite", "args", "message"),
    [
        ("prompts: [p]\n", (), "the suite has no cases"),
        ("prompts: [nothing@production]\n" + TESTS, (), "no prompt named 'nothing'"),
        ("prompts: [p]\ndataset: missing\n", (), "no dataset named 'missing'"),
        (GOOD, ("-o", "out.txt"), "use a .json, .csv or .xml"),
        (GOOD, ("--fail-under", "lots"), "is not a pass rate"),
        (GOOD, ("--baseline", "9"), "no run with id 9"),
        (GOOD + "params: {api_key: sk-secret}\n", (), "api_key does not belong in a suite"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, suite: str, args: tuple[str, ...], message: str) -> None:
    result = _eval(tmp_path, _suite(tmp_path, suite), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_suite_problems_are_printed_with_their_lines(tmp_path: Path) -> None:
    path = _suite(tmp_path, GOOD + "checks: []\n")
    result = _eval(tmp_path, path)
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "duplicate key 'checks'" in result.output


def test_resume_needs_a_run_or_a_suite(tmp_path: Path) -> None:
    assert _eval(tmp_path).exit_code == 2
    assert _eval(tmp_path, "--resume", "5").exit_code == 2
    assert _eval(tmp_path, _suite(tmp_path, GOOD)).exit_code == 0
    resumed = _eval(tmp_path, "--resume", "1")
    assert resumed.exit_code == 0, resumed.output
    assert "run 1 tickets: 3/3 cells" in resumed.output


def test_an_unknown_baseline_is_refused_before_anything_is_saved(tmp_path: Path) -> None:
    assert _eval(tmp_path, _suite(tmp_path, GOOD), "--baseline", "3").exit_code == 2
    assert not (tmp_path / "eval.db").exists()  # refused: no database is left behind
    open_db(tmp_path / "eval.db").close()
    assert _eval(tmp_path, _suite(tmp_path, GOOD), "--baseline", "3").exit_code == 2
    with sqlite3.connect(tmp_path / "eval.db") as db:
        counts = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("prompts", "cases")
        ]
    assert counts == [0, 0]
