"""`llmbench audit purge` and `llmbench monitor check|alerts|ack` through the real CLI."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends import null

from llmbench.cli import cli
from llmbench.demo.build import build_demo
from llmbench.demo.optimize_runs import call_count
from llmbench.store.db import open_db
from llmbench.store.views import to_iso
from tests.support.traffic import add_thumbs, daily_calls, write_calls


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="llmbench", input=input)


@pytest.fixture(autouse=True)
def no_os_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    """A month of demo traffic ending now, so that day-based policies cut into it."""
    return build_demo(tmp_path / "demo.db", calls=900, now=datetime.now(UTC)).path


def _sql(path: Path, query: str, *args: object) -> tuple:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, args).fetchone()
    finally:
        conn.close()


def _ago(days: int) -> str:
    return to_iso(datetime.now(UTC) - timedelta(days=days))


def test_purge_needs_a_policy(demo_db: Path) -> None:
    result = run("audit", "purge", "--db", str(demo_db), "--dry-run")
    assert result.exit_code == 2
    assert "no retention policy" in result.output and "[retention]" in result.output


def test_a_dry_run_counts_and_changes_nothing(demo_db: Path) -> None:
    (old,) = _sql(demo_db, "SELECT count(*) FROM calls WHERE ts < ?", _ago(20))
    result = run("audit", "purge", "--db", str(demo_db), "--dry-run", "--delete-after", "20")
    assert result.exit_code == 0, result.output
    assert "policy: delete calls older than 20 days" in result.output
    assert f"dry run: would delete {old:,} calls before" in result.output
    # and the optimizer prompt's 40 and the recorded bake-off's cells
    assert _sql(demo_db, "SELECT count(*) FROM calls") == (940 + call_count(),)
    assert _sql(demo_db, "SELECT count(*) FROM alerts") == (0,)


def test_purge_uses_the_config_policy_and_refusing_changes_nothing(
    demo_db: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_home / "config.toml"
    config.write_text("[retention]\nredact_after_days = 10\n")
    monkeypatch.setenv("LLMBENCH_CONFIG", str(config))
    (old,) = _sql(demo_db, "SELECT count(*) FROM calls WHERE ts < ?", _ago(10))
    result = run("audit", "purge", "--db", str(demo_db), input="n\n")
    assert "purge the bodies of calls older than 10 days" in result.output
    assert f"purge the bodies of {old:,} calls" in result.output
    assert result.exit_code != 0
    assert _sql(demo_db, "SELECT count(*) FROM calls WHERE purged_at IS NOT NULL") == (0,)


def test_purge_deletes_redacts_records_and_the_chain_still_verifies(demo_db: Path) -> None:
    (to_delete,) = _sql(demo_db, "SELECT count(*) FROM calls WHERE ts < ?", _ago(20))
    (to_redact,) = _sql(
        demo_db, "SELECT count(*) FROM calls WHERE ts < ? AND ts >= ?", _ago(7), _ago(20)
    )
    result = run(
        "audit", "purge", "--db", str(demo_db), "--delete-after", "20", "--redact-after", "7",
        "--vacuum", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # Deletion removes a prefix of the chain: a late attempt just after the cutoff is kept.
    # 900, the optimizer prompt's 40 and the recorded bake-off's cells
    (deleted,) = _sql(demo_db, "SELECT ? - count(*) FROM calls", 940 + call_count())
    assert to_delete - 3 <= deleted <= to_delete
    assert f"deleted {deleted:,} calls before" in result.output
    assert "vacuumed:" in result.output and "file mode: 0600" in result.output
    assert stat.S_IMODE(demo_db.stat().st_mode) == 0o600
    redacted = _sql(
        demo_db,
        "SELECT count(*), count(messages), count(response) FROM calls WHERE purged_at IS NOT NULL",
    )
    assert redacted[0] >= to_redact > 0 and redacted[1:] == (0, 0)

    verify = run("audit", "verify", "--db", str(demo_db))
    assert verify.exit_code == 0, verify.output
    assert f"{redacted[0]:,} with purged bodies" in verify.output

    alerts = run("monitor", "alerts", "--db", str(demo_db))
    assert "retention" in alerts.output and "Retention purge by" in alerts.output
    assert f"deleted {deleted:,} calls" in alerts.output and "[open]" in alerts.output
    (anchors,) = _sql(demo_db, "SELECT count(*) FROM chain_anchors")
    assert anchors == 1

    again = run("audit", "purge", "--db", str(demo_db), "--delete-after", "20", "--yes")
    assert "nothing to purge" in again.output
    assert _sql(demo_db, "SELECT count(*) FROM alerts") == (1,)

    conn = sqlite3.connect(demo_db)
    conn.executescript(
        "DROP TRIGGER calls_no_update; UPDATE calls SET latency_ms = 1 WHERE id = "
        "(SELECT max(id) FROM calls);"
    )
    (last,) = conn.execute("SELECT max(id) FROM calls").fetchone()
    conn.close()
    tampered = run("audit", "verify", "--db", str(demo_db))
    assert tampered.exit_code == 1
    assert tampered.output.startswith(f"FAILED at call {last}:")


def test_monitor_check_raises_each_drift_once_and_ack_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "traffic.db"
    now = datetime.now(UTC)
    with open_db(path) as store:
        ids = write_calls(store, daily_calls(now, slower_after_day=22))
        per_day = len(ids) // 30
        add_thumbs(store, ids[: per_day * 22], 0.9)
        add_thumbs(store, ids[per_day * 22 :], 0.6, seed=3)

    first = run("monitor", "check", "--db", str(path))
    assert first.exit_code == 0, first.output
    # One model: its latency and the overall latency drift together, and the thumbs-up rate.
    assert "3 drifting, 3 new alerts" in first.output
    assert "gpt-4o latency p95 up" in first.output and "Thumbs-up rate down" in first.output
    assert "Latency p95 up" in first.output
    assert "next: Open F6" in first.output

    second = run("monitor", "check", "--db", str(path))
    assert "0 new alerts" in second.output and "3 already raised before" in second.output
    assert _sql(path, "SELECT count(*) FROM alerts WHERE kind = 'drift'") == (3,)

    (alert_id,) = _sql(path, "SELECT min(id) FROM alerts")
    acked = run("monitor", "ack", str(alert_id), "--db", str(path))
    assert acked.exit_code == 0 and f"acknowledged alert #{alert_id}" in acked.output
    assert run("monitor", "ack", str(alert_id), "--db", str(path)).exit_code == 1
    listed = run("monitor", "alerts", "--open", "--db", str(path)).output
    assert f"#{alert_id} " not in listed and listed.count("[open]") == 2


SUITE = """\
prompts: [classify-intent@production]
tests:
  - vars: {message: "where is my refund"}
    expected: '{"intent": "refund"}'
checks:
  - {type: is-json}
  - {type: not-contains, value: "As an AI"}
  - {type: equals, value: "{{ expected }}"}
  - {type: llm-rubric, value: Names one intent}
"""


def test_monitor_sample_checks_a_stable_share_of_production_calls(
    demo_db: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "classify.yaml"
    suite.write_text(SUITE)
    (candidates,) = _sql(
        demo_db,
        "SELECT count(*) FROM calls c JOIN prompt_versions v ON v.id = c.prompt_version_id"
        " JOIN prompts p ON p.id = v.prompt_id WHERE p.name = 'classify-intent'"
        " AND c.status = 'ok' AND c.run_id IS NULL AND c.ts >= ?",
        _ago(7),
    )
    result = run(
        "monitor", "sample", "--prompt", "classify-intent", "--suite", str(suite),
        "--rate", "0.3", "--no-judge", "--db", str(demo_db),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipped checks: equals (needs an expected answer), judge (the judge is turned off)" in (
        result.output
    )
    (sampled, calls) = _sql(
        demo_db,
        "SELECT count(DISTINCT call_id), count(*) FROM checks WHERE call_id IS NOT NULL"
        " AND detail LIKE 'monitor sample:%'",
    )
    assert calls == 2 * sampled and 0.15 * candidates < sampled < 0.45 * candidates
    assert f"{sampled:,} of {candidates:,} unchecked calls of classify-intent" in result.output
    assert "100.0% passed" in result.output  # the demo's classifier always answers JSON

    again = run(
        "monitor", "sample", "--prompt", "classify-intent", "--suite", str(suite),
        "--rate", "0.3", "--no-judge", "--db", str(demo_db),
    )  # fmt: skip
    assert f"0 of {candidates - sampled:,} unchecked calls" in again.output

    other = run(
        "monitor", "sample", "--prompt", "support-reply", "--suite", str(suite),
        "--db", str(demo_db),
    )  # fmt: skip
    assert other.exit_code == 1
    assert "does not test prompt 'support-reply' (it tests: classify-intent)" in other.output
