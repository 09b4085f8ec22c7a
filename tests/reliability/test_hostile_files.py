"""Scenario 9 — hostile files handed to the importers.

What it proves: a file nested absurdly deep (100,000 `[`), a YAML value that holds itself
through an alias, aliases that expand a billion-fold, and numbers no SQLite integer can hold
(a token count of 10**30, a cost of 1e400, a version number of 10**30) are each refused as
`file:line: what is wrong` by `llmbench import jsonl`, `import usage-csv`, `datasets import`,
`prompts import` and `import promptfoo` — exit code 1 or 2, never a traceback (before: a
RecursionError from the parsers, an OverflowError from the writer) — and nothing is written:
no row in any table the import could touch, no converted suite.

Runtime: ~3 s.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli

DEEP = 100_000
DEEP_JSON = "[" * DEEP + "]" * DEEP
# One bracket a line: PyYAML looks ahead up to 1,024 characters of a line for a key, which makes
# one long line of brackets take a second to refuse; the lines also pin where it is refused.
DEEP_YAML = "[\n          " * DEEP + "]" * DEEP
TABLES = ("calls", "prompts", "prompt_versions", "datasets", "cases")
GOOD_CALL = {"ts": "2025-01-01T00:00:00Z", "model": "gpt-4o", "prompt_tokens": 3}
MINIMAL_PROMPTFOO = "prompts: ['Say {{word}}']\nproviders: [echo]\n"
BILLION_LAUGHS = (
    "tests:\n  - vars:\n      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"      {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def _counts(db: Path) -> dict[str, int]:
    if not db.exists():
        return dict.fromkeys(TABLES, 0)
    conn = sqlite3.connect(db)
    try:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
        }
    finally:
        conn.close()


def _refused(result: Result, where: str, problem: str) -> None:
    """Exit 1 or 2, `where: ...problem...` on a line of its own, and no traceback."""
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith(f"{where}:")]
    assert lines and problem in lines[0], result.output
    assert re.search(r"^llmbench: .*", result.output, re.MULTILINE), result.output


def _import(db: Path, *args: str) -> Result:
    before = _counts(db)
    result = _cli(*args, "--db", str(db))
    assert _counts(db) == before, "a refused import wrote rows"
    return result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "hostile.db"


def test_a_deeply_nested_call_line(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "calls.jsonl"
    deep = json.dumps({**GOOD_CALL, "messages": "X"}).replace('"X"', DEEP_JSON)
    source.write_text(json.dumps(GOOD_CALL) + "\n" + deep + "\n")
    result = _import(db, "import", "jsonl", str(source))
    _refused(result, "calls.jsonl:2", "nested deeper than 100 levels")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("prompt_tokens", 10**30, "prompt_tokens is out of range"),
        ("completion_tokens", 2**63, "completion_tokens is out of range"),
        ("cost", "1e400", "cost is not a finite number"),
        ("latency_ms", 10**400, "latency_ms is not a number"),
    ],
    ids=["tokens-1e30", "tokens-2^63", "cost-1e400", "latency-1e400"],
)
def test_numbers_beyond_what_sqlite_holds_in_a_call_line(
    tmp_path: Path, db: Path, field: str, value: object, problem: str
) -> None:
    source = tmp_path / "calls.jsonl"
    line = json.dumps({**GOOD_CALL, field: "X"}).replace('"X"', str(value))
    source.write_text(json.dumps(GOOD_CALL) + "\n" + line + "\n")
    _refused(_import(db, "import", "jsonl", str(source)), "calls.jsonl:2", problem)


def test_a_token_count_beyond_sqlite_in_a_usage_export(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "usage.csv"
    source.write_text(
        "start_time_iso,model,input_tokens,output_tokens\n"
        "2025-01-01T00:00:00Z,gpt-4o,10,5\n"
        "2025-01-02T00:00:00Z,gpt-4o,1e30,5\n"
    )
    result = _import(db, "import", "usage-csv", str(source))
    _refused(result, "usage.csv:3", "input_tokens is out of range")


def test_a_deeply_nested_dataset_line(tmp_path: Path, db: Path) -> None:
    source = tmp_path / "cases.jsonl"
    source.write_text('{"vars": {"q": "fine"}}\n{"vars": {"q": ' + DEEP_JSON + "}}\n")
    result = _import(db, "datasets", "import", str(source), "--name", "cases")
    _refused(result, f"{source}:2", "nested deeper than 100 levels")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (f"      task: {DEEP_YAML}\n", 103, "nested deeper than 100 levels"),
        ("      task: &t {again: *t}\n", 7, "alias *t is inside the value it names"),
        ("      task: hi\n    few_shot_k: " + str(10**30) + "\n", 8, "few_shot_k is out of range"),
    ],
    ids=["deep", "alias-to-itself", "number-beyond-64-bits"],
)
def test_a_hostile_prompt_file(
    tmp_path: Path, db: Path, text: str, line: int, problem: str
) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    source = folder / "triage.yaml"
    source.write_text("name: triage\nversions:\n  - version: 1\n    message: first\n"
                      "    model: gpt-4o\n    sections:\n" + text)  # fmt: skip
    result = _import(db, "prompts", "import", str(folder))
    _refused(result, f"{source}:{line}", problem)


@pytest.mark.parametrize(
    ("tests", "line", "problem"),
    [
        (f"tests:\n  - vars: {{word: {DEEP_YAML}}}\n", 100, "nested deeper than 100 levels"),
        ("tests:\n  - vars: &v {word: [*v]}\n", 4, "alias *v is inside the value it names"),
        (BILLION_LAUGHS, 11, "aliases expand to more than 1,000,000 values"),
    ],
    ids=["deep", "alias-to-itself", "billion-laughs"],
)
def test_a_hostile_promptfoo_config(tmp_path: Path, tests: str, line: int, problem: str) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(MINIMAL_PROMPTFOO + tests)
    output = tmp_path / "suite.eval.yaml"
    result = _cli("import", "promptfoo", str(config), "-o", str(output))
    _refused(result, f"{config}:{line}", problem)
    assert not output.exists()


def test_a_deeply_nested_promptfoo_test_file(tmp_path: Path) -> None:
    (tmp_path / "tests.jsonl").write_text('{"vars": {"word": "hi"}}\n{"vars": ' + DEEP_JSON + "}\n")
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(MINIMAL_PROMPTFOO + "tests: file://tests.jsonl\n")
    output = tmp_path / "suite.eval.yaml"
    result = _cli("import", "promptfoo", str(config), "-o", str(output))
    _refused(result, f"{tmp_path / 'tests.jsonl'}:2", "nested deeper than 100 levels")
    assert not output.exists()
