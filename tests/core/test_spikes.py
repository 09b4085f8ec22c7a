"""Spike detection on synthetic spend series."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from llmbench.core.costs.spikes import SpikeSettings, daily_spikes, hourly_spikes, touching_groups


def _hours(days: int, seed: int = 3) -> dict[str, float]:
    """A daily rhythm (busy afternoons, quiet nights) with noise."""
    rng = random.Random(seed)
    start = datetime(2025, 5, 1)
    spend = {}
    for offset in range(days * 24):
        moment = start + timedelta(hours=offset)
        rhythm = 1.0 + 2.0 * (9 <= moment.hour <= 18)
        spend[moment.strftime("%Y-%m-%dT%H")] = rhythm * rng.uniform(0.9, 1.1)
    return spend


def test_a_five_fold_hour_is_the_only_spike() -> None:
    spend = _hours(30)
    spend["2025-05-25T03"] *= 5
    found = hourly_spikes(spend, "2025-05-01T00", "2025-05-30T23")
    assert [spike.bucket for spike in found] == ["2025-05-25T03"]
    assert 4 < found[0].ratio < 6


def test_the_daily_rhythm_itself_is_not_a_spike() -> None:
    # Afternoons cost three times the nights; same-hour baselines know that.
    assert hourly_spikes(_hours(30), "2025-05-01T00", "2025-05-30T23") == []


def test_daily_spikes_need_history_and_a_material_excess() -> None:
    days = {f"2025-05-{n:02d}": 10.0 + (n % 3) * 0.2 for n in range(1, 31)}
    days["2025-05-03"] = 100.0  # too early: fewer than seven days before it
    days["2025-05-20"] = 40.0
    found = daily_spikes(days, "2025-05-01", "2025-05-30")
    assert [spike.bucket for spike in found] == ["2025-05-20"]
    # Twice the usual is unusual but below the ratio a spike needs.
    days["2025-05-20"] = 20.0
    assert daily_spikes(days, "2025-05-01", "2025-05-30") == []
    # A scope that usually spends nothing has no usual to be far above.
    assert daily_spikes({"2025-05-20": 5.0}, "2025-05-01", "2025-05-30") == []
    # An excess below the minimum (here raised by the caller) is not material.
    days["2025-05-20"] = 40.0
    assert daily_spikes(days, "2025-05-01", "2025-05-30", min_excess=50.0) == []
    strict = SpikeSettings(z=1000.0)
    assert daily_spikes(days, "2025-05-01", "2025-05-30", strict) == []


def test_spans_that_touch_or_overlap_are_one_group_and_a_gap_splits_them() -> None:
    def hour(day: int, at: int) -> tuple[datetime, datetime]:
        start = datetime(2025, 5, day, at, tzinfo=UTC)
        return start, start + timedelta(hours=1)

    day_28 = (datetime(2025, 5, 28, tzinfo=UTC), datetime(2025, 5, 29, tzinfo=UTC))
    spans = [hour(28, 15), hour(28, 13), day_28, hour(28, 14), hour(20, 21), hour(28, 23),
             hour(29, 0), hour(29, 2)]  # fmt: skip
    # 13:00-16:00 run consecutively, the day covers them and 23:00, which touches midnight's
    # hour; 02:00 on the 29th follows a gap; the 20th is an incident of its own.
    assert touching_groups(spans) == [[4], [2, 1, 3, 0, 5, 6], [7]]
    assert touching_groups([]) == []
