"""Budgets and spike alerts on a real database: thresholds, one alert per finding, context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llmbench.services.costs import breakdowns as costs
from llmbench.services.costs import budgets
from llmbench.store.db import Store, open_db
from llmbench.store.views import to_iso
from tests.support.traffic import daily_calls, write_calls

NOW = datetime(2025, 6, 1, 0, 30, tzinfo=UTC)
SPIKE_HOUR = "2025-05-25T14"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "budgets.db")
    yield store
    store.close()


def _month_of_traffic(store: Store, spike: bool) -> None:
    calls = daily_calls(NOW.replace(minute=0), days=30, per_day=120, seed=5)
    for call in calls:
        call["cost"] = call["prompt_tokens"] * 1e-6  # noisy per call, as real spend is
        call["feature"] = "support"
    if spike:
        start = datetime.strptime(SPIKE_HOUR, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        usual = [c for c in calls if c["ts"].startswith(SPIKE_HOUR)]
        extra = []
        for n in range(4 * len(usual)):  # four more hours' worth inside one hour: 5×
            twin = dict(usual[n % len(usual)])
            twin["ts"] = to_iso(start + timedelta(seconds=30 + n * 100))
            twin["request_id"] = f"burst-{n}"
            extra.append(twin)
        calls = sorted(calls + extra, key=lambda call: call["ts"])
    write_calls(store, calls)


def test_a_five_fold_hour_in_a_normal_month_is_the_only_spike_alerted(store: Store) -> None:
    _month_of_traffic(store, spike=True)
    result = budgets.check_costs(store, NOW)
    alerts = budgets.cost_alerts(store)
    # The hour spiked in three series (global, its model, its feature): one incident, one
    # alert, led by the global series, with each series as a child.
    (overall,) = alerts
    assert overall.kind == "spike" and overall.context["scope"] == "global"
    children = overall.context["children"]
    assert {(c["granularity"], c["first"], c["last"]) for c in children} == {
        ("hour", SPIKE_HOUR, SPIKE_HOUR)
    }
    assert sorted(c["scope"] for c in children) == ["feature", "global", "model"]
    assert result.incidents == 1 and result.spikes == 3
    assert 4 < overall.context["ratio"] < 6
    assert overall.severity == "critical"
    assert len(overall.context["top_calls"]) == 5
    assert all(call["ts"].startswith("2025-05-25T14") for call in overall.context["top_calls"])
    assert "since:2025-05-25T14:00:00Z" in overall.context["audit_query"]
    assert overall.context["suggestion"]
    assert len(result.new_alert_ids) == len(alerts)
    # Checking again finds the same spike and raises nothing new.
    assert budgets.check_costs(store, NOW).new_alert_ids == []


def test_a_four_hour_runaway_is_one_alert_with_each_series_run_as_a_child(store: Store) -> None:
    """One customer's loop on one feature for four hours: it spikes the global, model, feature
    and customer series, hour after hour and on the day. That is one incident: one alert,
    which grows (never duplicates) when checked again."""
    calls = daily_calls(NOW.replace(minute=0), days=30, per_day=240, seed=9)
    for n, call in enumerate(calls):
        call["cost"] = call["prompt_tokens"] * 1e-6
        call["feature"] = ("support", "summarize")[n % 2]
        call["customer"] = ("acme", "globex")[n % 2]
    start = datetime.strptime(SPIKE_HOUR, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    usual = [c for c in calls if c["ts"].startswith(SPIKE_HOUR)]
    for n in range(4 * 8 * len(usual)):  # four hours at eight times an hour's usual spend
        twin = dict(usual[n % len(usual)])
        twin.update(
            ts=to_iso(start + timedelta(seconds=5 + n * 4 * 3600 / (32 * len(usual)))),
            request_id=f"loop-{n}", feature="summarize", customer="globex",
        )  # fmt: skip
        calls.append(twin)
    write_calls(store, sorted(calls, key=lambda call: call["ts"]))

    result = budgets.check_costs(store, NOW)
    assert result.spikes >= 8  # many buckets in many series...
    (alert,) = budgets.cost_alerts(store)  # ...one alert
    assert result.incidents == 1 and result.new_alert_ids == [alert.id]
    runs = alert.context["children"]
    assert {(run["label"], run["granularity"]) for run in runs} >= {
        ("global", "hour"), ("feature=summarize", "hour"), ("customer=globex", "hour"),
    }  # fmt: skip
    lead = runs[0]
    assert (lead["label"], lead["first"], lead["buckets"]) == ("global", SPIKE_HOUR, 4)
    assert alert.message.startswith("global spent $") and "in 4 hours, 2025-05-25 14:00–18:00" in (
        alert.message
    )  # fmt: skip
    assert "feature=summarize" in alert.message and "customer=globex" in alert.message
    assert alert.context["since"].startswith("2025-05-25T14:00")
    assert alert.context["until"].startswith("2025-05-25T18:00")
    assert sorted(alert.context["keys"]) == alert.context["keys"]
    assert len(alert.context["keys"]) == result.spikes
    again = budgets.check_costs(store, NOW)
    assert (again.new_alert_ids, again.grown_alert_ids) == ([], [])
    assert len(budgets.cost_alerts(store)) == 1


def test_a_normal_month_raises_no_spike(store: Store) -> None:
    _month_of_traffic(store, spike=False)
    assert budgets.find_spikes(store, NOW) == []


def test_budget_alerts_at_fifty_eighty_and_a_hundred_percent(store: Store) -> None:
    _month_of_traffic(store, spike=False)
    now = datetime(2025, 5, 31, 23, 0, tzinfo=UTC)
    assert budgets.budget_status(store, now) == []
    month_spend = costs.breakdown(
        store, ["month"], "2025-05-01T00:00:00.000Z", to_iso(now)
    ).total.cost
    budgets.set_budget(store, "global", "month", month_spend / 0.85)  # 85 % used
    budgets.set_budget(store, "feature=support", "day", 1000.0)  # far from 50 %
    statuses = {s.label: s for s in budgets.budget_status(store, now)}
    assert statuses["global"].used == pytest.approx(0.85)
    assert statuses["global"].projected > statuses["global"].spent
    budgets.check_costs(store, now)
    (alert,) = budgets.cost_alerts(store)
    assert (alert.kind, alert.severity) == ("budget", "warning")
    assert "85%" in alert.message
    # Over the limit: the critical alert comes once, the warning is not repeated.
    budgets.set_budget(store, "global", "month", month_spend / 1.2)
    budgets.check_costs(store, now)
    budgets.check_costs(store, now)
    severities = sorted(a.severity for a in budgets.cost_alerts(store))
    assert severities == ["critical", "warning"]
    # Acknowledged alerts sort after open ones.
    assert budgets.ack_alert(store, alert.id, "maria")
    assert budgets.cost_alerts(store)[-1].id == alert.id
    assert not budgets.ack_alert(store, alert.id, "maria")


def test_scopes_and_periods_are_checked() -> None:
    assert budgets.parse_scope("feature=search") == ("feature", "search")
    assert budgets.parse_scope("global") == ("global", "")
    for bad in ("global=x", "feature", "colour=red"):
        with pytest.raises(ValueError):
            budgets.parse_scope(bad)
    start, end = budgets.period_bounds("week", datetime(2025, 6, 1, 12, tzinfo=UTC))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2025-05-26", "2025-06-02")
    start, end = budgets.period_bounds("month", datetime(2025, 12, 9, tzinfo=UTC))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2025-12-01", "2026-01-01")
