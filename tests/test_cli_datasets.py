"""`llmbench datasets list/show/import/export` on a real database file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.store.db import open_db

CSV = """\
ticket,__expected,__expected1,__metadata:difficulty,__tags
I was charged twice,refund,icontains: refund,hard,task_type=billing
Cannot log in,,not-contains: sorry,,task_type=login
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="llmbench")
    return result.exit_code, result.stdout, result.stderr


def _cases(db: Path) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("SELECT count(*) FROM cases").fetchone()[0]
    finally:
        connection.close()


def test_import_list_show_and_export_round_trip(tmp_path: Path) -> None:
    db, source = str(tmp_path / "d.db"), tmp_path / "tickets.csv"
    source.write_text(CSV, encoding="utf-8")
    code, out, _ = run("datasets", "import", str(source), "--db", db)
    assert code == 0 and out == "created tickets: 2 of 2 cases added\n"
    code, out, _ = run("datasets", "import", str(source), "--db", db)
    assert code == 0 and out == "added to tickets: 0 of 2 cases added, 2 already there\n"
    code, out, _ = run("datasets", "list", "--db", db)
    assert code == 0 and out.split() == ["tickets", "2", "cases", "imported", "from", "tickets.csv"]
    code, out, _ = run("datasets", "show", "tickets", "--db", db)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "tickets: 2 cases  imported from tickets.csv"
    assert lines[1].split()[0] == "#1" and lines[1].split("  ")[-4:] == [
        "ticket=I was charged twice",
        "→ refund",
        "[difficulty=hard, task_type=billing]",
        "1 check",
    ]
    exported = tmp_path / "out.jsonl"
    code, out, _ = run("datasets", "export", "tickets", "-o", str(exported), "--db", db)
    assert code == 0 and out == f"2 cases of tickets written to {exported}\n"
    assert run("datasets", "import", str(exported), "--name", "copy", "--db", db)[0] == 0
    copy = run("datasets", "show", "copy", "--db", db)[1].splitlines()[1:]
    original = lines[1:]
    assert [line.split(None, 1)[1] for line in copy] == [
        line.split(None, 1)[1] for line in original
    ]


def test_a_bad_file_exits_2_with_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    db, source = tmp_path / "d.db", tmp_path / "bad.csv"
    source.write_text(CSV + "Third,javascript: 1,,,\nshort\n", encoding="utf-8")
    code, out, err = run("datasets", "import", str(source), "--db", str(db))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"{source}:4: __expected: 'javascript:' (javascript code) cannot be converted: llmbench "
        "runs no code from a data file; write it as a check (contains, regex, is-json, "
        "llm-rubric, ...)",
        f"{source}:5: 1 fields where the header has 5",
        "llmbench: import refused (2 problems); nothing was written",
    ]
    assert not db.exists()  # refused into a database that was not there: none is left behind
    open_db(db).close()
    assert run("datasets", "import", str(source), "--db", str(db))[0] == 2
    assert _cases(db) == 0


def test_show_and_export_name_what_is_wrong(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    source = tmp_path / "n.jsonl"
    source.write_text('{"vars": {"n": 3}}\n', encoding="utf-8")
    assert run("datasets", "import", str(source), "--db", db)[0] == 0
    code, _, err = run("datasets", "show", "nope", "--db", db)
    assert code == 2 and err == "llmbench: no dataset named 'nope' (datasets: n)\n"
    code, _, err = run("datasets", "export", "n", "-o", str(tmp_path / "n.csv"), "--db", db)
    assert code == 1 and "variable 'n' is not text" in err and "export to .jsonl" in err
    code, _, err = run("datasets", "export", "n", "-o", str(tmp_path / "n.txt"), "--db", db)
    assert code == 2 and "ends in .csv or .jsonl" in err
    open_db(tmp_path / "empty.db").close()
    code, out, _ = run("datasets", "list", "--db", str(tmp_path / "empty.db"))
    assert code == 0 and "no datasets yet" in out
