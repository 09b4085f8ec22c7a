"""Spike detection on synthetic spend series."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from llmbench.core.costs.spikes import SpikeSettings, daily_spikes, hourly_spikes


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
