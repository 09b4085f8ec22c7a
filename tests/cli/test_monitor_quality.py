"""`llmbench monitor sample` with the judge (the built-in llmbench/mock, the config's default
judge) and `llmbench monitor consistency`, on a real database file of production calls."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from llmbench.cli import cli
from llmbench.gateway.client import shutdown_sync
from llmbench.store.db import open_db
from tests.support.support_questions import PROMPT, SUITE, seed_support_traffic


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench")


def _database(tmp_path: Path, **traffic: object) -> Path:
    path = tmp_path / "production.db"
    with open_db(path) as store:
        seed_support_traffic(store, datetime.now(UTC), **traffic)  # type: ignore[arg-type]
    return path


def _value(path: Path, query: str) -> float:
    conn = sqlite3.connect(path)
    try:
        return float(conn.execute(query).fetchone()[0])
    finally:
        conn.close()


def _count(path: Path, query: str) -> int:
    return int(_value(path, query))


def test_monitor_sample_runs_the_judge_on_the_sample(tmp_path: Path) -> None:
    path = _database(tmp_path, days=2, per_day=10)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    try:
        result = run(
            "monitor", "sample", "--prompt", PROMPT, "--suite", str(suite),
            "--rate", "1", "--days", "3", "--db", str(path),
        )  # fmt: skip
    finally:
        shutdown_sync()
    assert result.exit_code == 0, result.output
    assert "20 of 20 unchecked calls of support-reply in the last 3 days checked" in result.output
    judged = re.search(r"judge llmbench/mock: 20 verdicts, mean score (\d\.\d\d)", result.output)
    assert judged, result.output
    mean = _value(path, "SELECT avg(score) FROM checks WHERE kind = 'judge'")
    assert judged[1] == f"{mean:.2f}"


def test_monitor_consistency_prints_and_stores_each_day(tmp_path: Path) -> None:
    path = _database(tmp_path, days=4, per_day=40, diverge=0.2)
    result = run("monitor", "consistency", "--days", "5", "--db", str(path))
    assert result.exit_code == 0, result.output
    head, *days = result.output.strip().splitlines()
    match = re.fullmatch(r"support-reply: ([\d,]+) similar pairs, ([\d,]+) diverging \(.+%\)", head)
    assert match, head
    pairs = int(match[1].replace(",", ""))
    assert pairs == _count(path, "SELECT sum(pairs) FROM consistency_daily")
    assert int(match[2].replace(",", "")) == _count(
        path, "SELECT sum(divergent) FROM consistency_daily"
    )
    # Four days of traffic ending now touch five UTC days, or four when "now" is so early in
    # the UTC day that no call has come yet today; each line names example pairs.
    with_calls = _count(path, "SELECT count(DISTINCT substr(ts, 1, 10)) FROM calls")
    assert with_calls in (4, 5)
    assert len(days) == _count(path, "SELECT count(*) FROM consistency_daily") == with_calls
    for line in days:
        # The oldest day is cut by the window's start: late in the UTC day it holds a few calls
        # and no pair, whose share is shown as "-".
        found = re.search(r"calls +([\d,]+) pairs", line)
        assert found, line
        if int(found[1].replace(",", "")):
            assert re.search(r"calls .* pairs .*%", line), line
        else:
            assert line.rstrip().endswith("-"), line
    assert any("e.g. #" in line for line in days)

    unknown = run("monitor", "consistency", "--prompt", "nope", "--db", str(path))
    assert unknown.exit_code == 1 and "no prompt named 'nope'" in unknown.output


def test_monitor_consistency_on_a_quiet_log_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    open_db(path).close()
    result = run("monitor", "consistency", "--db", str(path))
    assert result.exit_code == 0 and "no production calls in the last 7 days" in result.output
