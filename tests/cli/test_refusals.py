"""Issue 17's CLI items on real database files: refusals say what is wrong, exit with the code
the README's table gives, and leave nothing behind; `eval` prints why a cell has no answer."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.gateway.client import shutdown_sync
from llmbench.store.db import open_db

PROMPT_FILE = """\
name: {name}
versions:
  - version: 1
    message: first
    model: llmbench/echo
    sections:
      task: "{task}"
"""


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench", input=stdin)


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    path = tmp_path / "llmbench.db"
    open_db(path).close()
    return path


@pytest.fixture
def finish_gateway() -> Iterator[None]:
    yield
    shutdown_sync()


def test_eval_prints_every_error_cell_with_its_reason(
    tmp_path: Path, isolated_home: Path, finish_gateway: None
) -> None:
    (isolated_home / "config.toml").write_text("[gateway]\nmax_retries = 0\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: failing\n"
        "prompts:\n"
        "  - name: support-reply\n"
        '    sections: {role: You answer tickets., task: "Ticket: {{ ticket }}"}\n'
        "models: [llmbench/mock]\n"
        "params: {mock_fail: server}\n"
        "tests:\n"
        "  - vars: {ticket: My parcel never arrived}\n"
        "  - vars: {ticket: I was charged twice}\n",
        encoding="utf-8",
    )
    result = run("eval", str(suite), "--db", str(tmp_path / "eval.db"))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "2 cells not answered:" in lines, result.output
    start = lines.index("2 cells not answered:")
    reasons = lines[start + 1 : start + 3]
    assert all(line.startswith("  support-reply@1 × llmbench/mock, case #") for line in reasons)
    assert all("server" in line and "llmbench/mock" in line for line in reasons), reasons
    assert "Internal server error (simulated)" in reasons[0]


def test_grades_export_writes_only_what_the_file_name_says(empty_db: Path, tmp_path: Path) -> None:
    xml = tmp_path / "g.xml"
    refused = run("grades", "export", str(xml), "--db", str(empty_db))
    assert refused.exit_code == 2, refused.output
    assert "g.xml: name a .csv or .jsonl file, or pass --format" in refused.output
    assert not xml.exists()
    clash = run(
        "grades", "export", str(tmp_path / "g.csv"), "--format", "jsonl", "--db", str(empty_db)
    )
    assert clash.exit_code == 2 and "ends in .csv but --format is jsonl" in clash.output
    chosen = run("grades", "export", str(xml), "--format", "csv", "--db", str(empty_db))
    assert chosen.exit_code == 0 and xml.read_text().startswith("id,rubric,")
    jsonl = run("grades", "export", str(tmp_path / "g.JSONL"), "--db", str(empty_db))
    assert jsonl.exit_code == 0 and "(jsonl)" in jsonl.output


def test_demo_refuses_a_file_that_is_not_an_llmbench_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run("demo", "--db", str(notes), "--no-tui")
    assert result.exit_code == 1, result.output
    assert "Opening the existing demo database" not in result.output
    assert f"{notes} is not an llmbench database" in result.output
    assert notes.read_text() == "my notes\n"
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run("demo", "--db", str(empty), "--no-tui")
    assert result.exit_code == 1 and "is an empty file" in result.output
    assert empty.stat().st_size == 0


def test_import_llm_logs_names_a_file_that_is_not_sqlite(empty_db: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    result = run("import", "llm-logs", str(notes), "--db", str(empty_db))
    assert result.exit_code == 2, result.output
    assert f"{notes} is not a SQLite database, so not simonw/llm's logs.db" in result.output
    assert "bad row" not in result.output
    with sqlite3.connect(empty_db) as db:
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (0,)


def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text('{"model": "a", "ts": "2025-06-03"}\n{oops\n')
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "bad.yaml").write_text("name: x\nversions:\n  - version: zero\n")
    cases = tmp_path / "cases.csv"
    cases.write_text("ticket,__expected\nhello,javascript: 1\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nprompts: [nope@production]\nmodels: [llmbench/echo]\n")
    return {
        "import jsonl": ["import", "jsonl", str(jsonl)],
        "prompts import": ["prompts", "import", str(prompts)],
        "datasets import": ["datasets", "import", str(cases)],
        "eval": ["eval", str(suite)],
        "budgets set": ["budgets", "set", "colour=red", "--limit", "5"],
        "prices set": ["prices", "set", "m", "--input", "1", "--output", "2", "--from", "soon"],
    }


@pytest.mark.parametrize(
    "command",
    ["import jsonl", "prompts import", "datasets import", "eval", "budgets set", "prices set"],
)
def test_a_refused_write_into_a_missing_database_leaves_nothing_behind(
    command: str, tmp_path: Path, isolated_home: Path, finish_gateway: None
) -> None:
    args = _bad_inputs(tmp_path)[command]
    keys_before = _files(isolated_home / "audit-keys")
    target = tmp_path / "new" / "deeper" / "x.db"
    result = run(*args, "--db", str(target))
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "new").exists()  # no database, no -wal, no folder made for it
    assert _files(isolated_home / "audit-keys") == keys_before  # and no key for it


def test_prompts_import_reports_every_bad_file(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    folder = tmp_path / "prompts"
    folder.mkdir()
    saved = folder / "triage.yaml"
    saved.write_text(PROMPT_FILE.format(name="triage", task="Sort {{ ticket }}"))
    assert run("prompts", "import", str(folder), "--db", str(db)).exit_code == 0
    # One file changes a saved version (a problem only the database shows), another does not
    # parse, a third is fine: both problems are reported, and nothing is written.
    saved.write_text(PROMPT_FILE.format(name="triage", task="Sort {{ ticket }} quickly"))
    broken = folder / "broken.yaml"
    broken.write_text("name: broken\nversions: [1, 2\n")
    (folder / "fine.yaml").write_text(PROMPT_FILE.format(name="fine", task="Hi"))
    result = run("prompts", "import", str(folder), "--db", str(db))
    assert result.exit_code == 2, result.output
    assert f"{broken}:" in result.output and "invalid YAML" in result.output
    assert f"{saved}:" in result.output and "differs from the saved version 1" in result.output
    assert "llmbench: import refused (2 problems); nothing was written" in result.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM prompts").fetchall() == [("triage",)]


def test_unknown_names_exit_2_as_the_readme_says(empty_db: Path) -> None:
    result = run("datasets", "show", "nope", "--db", str(empty_db))
    assert result.exit_code == 2 and "no dataset named 'nope'" in result.output


def test_a_missing_database_is_named_as_missing_and_not_made(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    result = run("db", "info", "--db", "missing/x.db")
    assert result.exit_code == 1
    assert "missing/x.db does not exist (the folder missing does not exist either)" in (
        result.output
    )
    assert "pass --db" not in result.output
    assert not (tmp_path / "missing").exists()


READ_ONLY_COMMANDS = [
    ["db", "info"],
    ["db", "check"],
    ["costs", "--by", "model"],
    ["prompts", "list"],
    ["datasets", "list"],
    ["monitor", "alerts"],
    ["logs", "export", "-"],
]


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=" ".join)
def test_a_command_that_only_reads_leaves_an_empty_file_alone(
    args: list[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    empty.chmod(0o644)
    result = run(*args, "--db", str(empty))
    assert result.exit_code == 1, result.output
    assert f"{empty} is an empty file, not an llmbench database" in result.output
    assert empty.stat().st_size == 0 and stat.S_IMODE(empty.stat().st_mode) == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.db"]


def test_the_tui_refuses_a_mistyped_database_path(tmp_path: Path) -> None:
    """`llmbench --db typo/x.db` used to make the folder and an empty database and open it."""
    result = subprocess.run(
        [sys.executable, "-m", "llmbench", "--db", "typo/x.db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("llmbench: typo/x.db does not exist")
    assert "--create" in result.stderr
    assert list(tmp_path.iterdir()) == []
