"""`llmbench grades rubric` and `llmbench grades export` on a real database file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from llmbench.cli import cli
from llmbench.store.db import open_db
from llmbench.store.grading.grades import NewGrade, insert_grade

RUBRIC = """
name = "support"
[[dimensions]]
name = "relevance"
scale = "1-3"
levels = ["Off", "Partial", "Spot on"]
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="llmbench")
    return result.exit_code, result.output


def test_rubric_file_then_export(tmp_path: Path) -> None:
    db, rubric = tmp_path / "g.db", tmp_path / "support.toml"
    rubric.write_text(RUBRIC)
    code, output = run("grades", "rubric", str(rubric), "--db", str(db))
    assert code == 0 and "rubric #1 saved" in output
    code, output = run("grades", "rubric", str(rubric), "--db", str(db))
    assert code == 1 and "exists" in output
    assert run("grades", "rubric", str(rubric), "--replace", "--db", str(db))[0] == 0
    with open_db(db) as store:

        def job(database):
            database.execute("INSERT INTO runs (kind, created_at) VALUES ('compare', 'now')")
            database.execute(
                "INSERT INTO results (run_id, model, output, created_at) VALUES (1, 'm', 'o', 'n')"
            )
            insert_grade(database, NewGrade(1, "ann", {"relevance": 2}, "pass", result_id=1))

        store.write(job)
    out = tmp_path / "grades.jsonl"
    code, output = run("grades", "export", str(out), "--db", str(db))
    assert code == 0 and "1 grades written" in output and "(jsonl)" in output
    assert json.loads(out.read_text())["scores"] == {"relevance": 2}
    out_csv = tmp_path / "grades.csv"
    assert run("grades", "export", str(out_csv), "--rubric", "support", "--db", str(db))[0] == 0
    [row] = list(csv.DictReader(out_csv.open()))
    assert row["reviewer"] == "ann" and row["score_relevance"] == "2" and row["verdict"] == "pass"
    code, output = run("grades", "export", str(out_csv), "--rubric", "nope", "--db", str(db))
    assert code == 2 and "no rubric named 'nope'" in output
