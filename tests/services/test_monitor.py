"""The Monitor's figures against SQL over the same calls, exact and sampled; quality per day;
retention through the service."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llmbench.demo.build import build_demo
from llmbench.demo.optimize_runs import call_count
from llmbench.services.audit.retention import (
    NoRetentionPolicy,
    RetentionPolicy,
    preview,
    run_purge,
)
from llmbench.services.monitoring.health import (
    WINDOWS_BY_KEY,
    ack_alert,
    list_alerts,
    monitor_report,
)
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation.runs import NewCheck, add_checks
from llmbench.store.views import to_iso
from tests.support.traffic import add_thumbs, daily_calls, write_calls

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("monitor") / "demo.db", calls=3000, now=NOW).path


@pytest.fixture
def store(demo_path: Path) -> Iterator[Store]:
    with open_db(demo_path, create=False) as opened:
        yield opened


def _sql(path: Path, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def _nearest_rank(path: Path, since: str, model: str, fraction: float) -> float:
    values = [
        row[0]
        for row in _sql(
            path,
            "SELECT latency_ms FROM calls WHERE ts >= ? AND ts < ? AND model = ?"
            " AND status = 'ok' AND latency_ms IS NOT NULL ORDER BY latency_ms",
            since, to_iso(NOW), model,
        )
    ]  # fmt: skip
    return values[max(math.ceil(fraction * len(values)), 1) - 1]


def test_an_exact_window_matches_sql(store: Store, demo_path: Path) -> None:
    report = monitor_report(store, "7d", now=NOW)
    since = to_iso(NOW - timedelta(days=7))
    per_model = dict(
        _sql(
            demo_path,
            "SELECT model, count(*) FROM calls WHERE ts >= ? AND ts < ? GROUP BY model",
            since, to_iso(NOW),
        )
    )  # fmt: skip
    assert report.exact and report.total == report.sampled == sum(per_model.values())
    assert {h.name: h.requests for h in report.models} == per_model
    top = report.models[0]
    assert top.requests == max(per_model.values())
    assert top.latency[1] == _nearest_rank(demo_path, since, top.name, 0.95)
    assert top.latency[2] == _nearest_rank(demo_path, since, top.name, 0.99)
    ((errors, limited, cost),) = _sql(
        demo_path,
        "SELECT sum(status = 'error'), sum(status = 'rate_limited'), sum(cost) FROM calls"
        " WHERE ts >= ? AND ts < ?",
        since, to_iso(NOW),
    )  # fmt: skip
    assert (report.overall.errors, report.overall.rate_limited) == (errors, limited)
    assert report.cost_per_hour == pytest.approx(cost / (7 * 24))
    assert sum(report.timeline.requests) == report.total
    assert len(report.timeline.starts) == 7 * 24 * 60 // WINDOWS_BY_KEY["7d"].bucket_minutes
    ((ok_with_prompt,),) = _sql(
        demo_path,
        "SELECT count(*) FROM calls WHERE ts >= ? AND ts < ? AND status = 'ok'"
        " AND prompt_tokens > 0",
        since, to_iso(NOW),
    )  # fmt: skip
    assert report.prompt_histogram.total == ok_with_prompt


def test_a_sampled_window_counts_exactly_and_estimates_closely(store: Store) -> None:
    exact = monitor_report(store, "30d", now=NOW)
    sampled = monitor_report(store, "30d", now=NOW, sample_limit=1000)
    # 3000 calls and the optimizer demo prompt's 135 (llmbench/demo/optimize_demo.py).
    total = 3135 + call_count()  # and the recorded bake-off's cells (demo/optimize_runs.py)
    assert not sampled.exact and sampled.total == exact.total == total
    assert 900 <= sampled.sampled <= 1100
    assert sum(h.requests for h in sampled.models) == pytest.approx(total, rel=0.01)
    assert sampled.overall.latency[0] == pytest.approx(exact.overall.latency[0], rel=0.1)
    assert sampled.overall.cost == pytest.approx(exact.overall.cost, rel=0.25)
    assert sum(sampled.timeline.requests) == pytest.approx(total, rel=0.01)


def test_a_sample_finds_calls_appended_out_of_time_order(tmp_path: Path) -> None:
    """An import appends last month's calls after this week's: the window's calls are then not
    one run of ids from its first call to its last, and the sample must still cover them."""
    with open_db(tmp_path / "imported.db") as store:
        write_calls(store, daily_calls(NOW, days=5, per_day=100, latency_ms=1000.0))
        older = daily_calls(NOW - timedelta(days=20), days=5, per_day=100, latency_ms=3000.0)
        write_calls(store, [{**call, "request_id": "old-" + call["request_id"]} for call in older])
        exact = monitor_report(store, "30d", now=NOW)
        sampled = monitor_report(store, "30d", now=NOW, sample_limit=300)
    assert exact.total == sampled.total == 1000 and not sampled.exact
    assert 200 <= sampled.sampled <= 400
    assert sum(sampled.timeline.requests) == pytest.approx(1000, rel=0.05)
    # Half the calls are three times slower: the median sits between the two groups.
    assert sampled.overall.latency[1] == pytest.approx(exact.overall.latency[1], rel=0.1)
    assert sampled.overall.latency[0] == pytest.approx(exact.overall.latency[0], rel=0.5)


def test_quality_per_day_from_checks_and_thumbs(tmp_path: Path) -> None:
    with open_db(tmp_path / "q.db") as store:
        ids = write_calls(store, daily_calls(NOW, days=3, per_day=40))
        add_thumbs(store, ids[:40], 1.0)
        add_thumbs(store, ids[40:80], 0.0)
        # Checks on production calls: the first 10 fail, the next 30 pass.
        checks = [NewCheck(kind="contains", passed=n >= 10, call_id=i) for n, i in enumerate(ids)]
        store.write(lambda db: add_checks(db, checks[:40]))
        report = monitor_report(store, "7d", now=NOW)
    # The synthetic days start at NOW - 3 days (12:00), so each spans two UTC dates; the last
    # half day has neither feedback nor checks.
    assert [(d.thumbs, d.thumbs_up) for d in report.quality] == [(20, 1.0), (40, 0.5), (20, 0.0)]
    assert [(d.checks, d.pass_rate) for d in report.quality] == [
        (20, 0.5), (20, 1.0), (0, None),
    ]  # fmt: skip


def test_alerts_ack_once(store: Store) -> None:
    from llmbench.store.alerts import add_alert

    alert_id = store.write(lambda db: add_alert(db, "drift", "warning", "p95 up", {"a": 1}))
    assert list_alerts(store)[0].open
    assert ack_alert(store, alert_id, "ada") is True
    assert ack_alert(store, alert_id, "bob") is False
    (alert,) = [a for a in list_alerts(store) if a.id == alert_id]
    assert (alert.acked_by, alert.context) == ("ada", {"a": 1})
    with pytest.raises(ValueError, match="severity"):
        store.write(lambda db: add_alert(db, "drift", "loud", "x", {}))


def test_retention_service_records_each_purge_and_refuses_without_a_policy(
    tmp_path: Path,
) -> None:
    path = build_demo(tmp_path / "r.db", calls=600, now=NOW).path
    with open_db(path, create=False) as store:
        with pytest.raises(NoRetentionPolicy):
            preview(store, RetentionPolicy(), now=NOW)
        policy = RetentionPolicy(delete_after_days=0, redact_after_days=10)
        planned = preview(store, policy, now=NOW)
        assert planned.to_delete == 0 and planned.to_redact > 0
        outcome = run_purge(store, policy, who="ada", now=NOW)
        assert outcome.changed and outcome.plan == planned and outcome.file_mode == 0o600
        (alert,) = list_alerts(store)
        assert alert.kind == "retention" and alert.context["who"] == "ada"
        assert alert.context["redacted"] == planned.to_redact
        assert not run_purge(store, policy, who="ada", now=NOW).changed
        assert len(list_alerts(store)) == 1
    with pytest.raises(ValueError):
        RetentionPolicy(delete_after_days=-1)
    assert RetentionPolicy(30, 40).describe() == "delete calls older than 30 days"
