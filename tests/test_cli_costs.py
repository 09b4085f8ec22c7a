"""`llmbench costs` and `llmbench budgets` through the real CLI, on the hand-computed fixture."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmbench.cli import cli
from tests.support import cost_fixture

WINDOW = ("--since", "2025-06-01", "--until", "2025-06-10T12:00")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


@pytest.fixture
def db(tmp_path: Path) -> str:
    store, _ = cost_fixture.build(tmp_path / "costs.db")
    store.close()
    return str(tmp_path / "costs.db")


def test_json_nests_feature_then_model(db: str) -> None:
    result = run("costs", "--db", db, "--by", "feature,model", *WINDOW, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["by"] == ["feature", "model"]
    assert data["total"]["calls"] == 7 and data["total"]["cost"] == pytest.approx(0.0461)
    search = data["rows"][0]
    assert (search["label"], search["calls"], search["prompt_tokens"]) == ("search", 3, 2010)
    assert [(c["label"], c["calls"]) for c in search["children"]] == [("b", 2), ("a", 1)]
    assert data["unpriced_models"] == [
        {"model": "c", "calls": 1, "prompt_tokens": 300, "completion_tokens": 30}
    ]


def test_csv_has_one_line_per_row_and_filters_apply(db: str) -> None:
    result = run(
        "costs", "--db", db, "--by", "team,model", *WINDOW, "--where", "feature=chat",
        "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(result.output)))
    assert lines[0][:3] == ["team", "model", "calls"]
    assert [line[:3] for line in lines[1:]] == [
        ["t1", "", "2"], ["t1", "a", "2"], ["t2", "", "1"], ["t2", "b", "1"],
    ]  # fmt: skip


def test_table_lists_rows_total_and_unpriced_models(db: str) -> None:
    result = run("costs", "--db", db, "--by", "model", *WINDOW)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2025-06-01T00:00 → 2025-06-10T12:00 UTC"
    assert [line.split()[0] for line in lines[3:6]] == ["b", "a", "c"]
    assert lines[7].split()[:2] == ["total", "7"]
    assert "$0.0461" in lines[7]
    assert lines[-1].startswith("unpriced: c — 1 calls")


def test_reprice_uses_the_price_overrides(db: str) -> None:
    assert run("prices", "set", "a", "--db", db, "--input", "1", "--output", "2",
               "--cached", "0.5").exit_code == 0  # fmt: skip
    result = run("costs", "--db", db, "--by", "model", *WINDOW, "--format", "json", "--reprice")
    rows = {row["label"]: row for row in json.loads(result.output)["rows"]}
    assert rows["a"]["repriced_cost"] == pytest.approx(1712 / 1e6)
    assert rows["a"]["cost"] == pytest.approx(0.0151)


@pytest.mark.parametrize(
    "args",
    [("--by", "colour"), ("--by", "a,b,c"), ("--since", "soon"), ("--where", "day=2025")],
)
def test_bad_options_are_usage_errors(db: str, args: tuple[str, ...]) -> None:
    result = run("costs", "--db", db, *args)
    assert result.exit_code == 2


def test_budgets_set_list_check_and_delete(db: str) -> None:
    assert run("budgets", "set", "global", "--db", db, "--limit", "5").exit_code == 0
    result = run("budgets", "set", "feature=chat", "--db", db, "--period", "day", "--limit", "1")
    assert result.output.strip() == "budget #2: feature=chat $1.00 per day"
    listed = run("budgets", "list", "--db", db)
    assert "global" in listed.output and "feature=chat" in listed.output
    checked = run("budgets", "check", "--db", db)
    assert checked.exit_code == 0 and checked.output.startswith("2 budgets checked")
    assert run("budgets", "set", "global=x", "--db", db, "--limit", "5").exit_code == 2
    assert run("budgets", "delete", "2", "--db", db).exit_code == 0
    assert run("budgets", "delete", "2", "--db", db).exit_code == 1


def test_import_jsonl_reports_added_then_refuses_a_bad_file(db: str, tmp_path: Path) -> None:
    good = tmp_path / "spend.jsonl"
    good.write_text(
        json.dumps({"request_id": "s1", "model": "a", "startTime": "2025-06-03T10:00:00Z",
                    "spend": 0.5, "prompt_tokens": 10, "completion_tokens": 1}) + "\n"
    )  # fmt: skip
    result = run("import", "jsonl", str(good), "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 calls read, 1 added, 0 already in the log" in result.output
    again = run("import", "jsonl", str(good), "--db", db)
    assert "0 added, 1 already in the log" in again.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model": "a", "ts": "2025-06-03"}\n{oops\n')
    refused = run("import", "jsonl", str(bad), "--db", db)
    assert refused.exit_code == 2  # bad input
    assert "nothing was written" in refused.output and "bad.jsonl:2: not JSON" in refused.output
    mapped = run("import", "jsonl", str(bad), "--db", db, "--map", "when")
    assert mapped.exit_code == 2
    totals = json.loads(
        run("costs", "--db", db, "--by", "model", *WINDOW, "--format", "json").output
    )["total"]
    assert totals["calls"] == 8  # the one imported call, nothing of the refused file
    assert totals["cost"] == pytest.approx(0.5461)
