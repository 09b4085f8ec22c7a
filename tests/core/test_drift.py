"""Drift detection: a 5% slide is caught within three days; steady noise raises nothing."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from llmbench.core.monitoring.drift import DriftSettings, SeriesSpec, detect_drift

QUALITY = SeriesSpec("pass_rate", "Check pass rate", True, "ratio", "grade a sample")
LATENCY = SeriesSpec("latency_p95", "Latency p95", False, "ms", "compare providers")
START = date(2025, 5, 1)


def _daily(values: list[float]) -> list[tuple[str, float]]:
    return [((START + timedelta(days=n)).isoformat(), value) for n, value in enumerate(values)]


def _series(
    seed: int,
    level: float,
    days: int,
    *,
    noise: float = 0.01,
    shift_after: int | None = None,
    shift: float = 0.0,
) -> list[tuple[str, float]]:
    """A daily series around `level` with relative Gaussian noise; after day `shift_after` the
    level moves by `shift` (relative: -0.05 is 5% lower)."""
    rng = random.Random(seed)
    values = []
    for day in range(days):
        moved = shift_after is not None and day > shift_after
        values.append(level * (1 + (shift if moved else 0.0)) * (1 + rng.gauss(0, noise)))
    return _daily(values)


def _day_index(label: str) -> int:
    return (date.fromisoformat(label) - START).days


@pytest.mark.parametrize("seed", range(12))
def test_a_five_percent_quality_drop_after_day_20_is_caught_within_three_days(seed: int) -> None:
    points = _series(seed, 0.85, 30, shift_after=20, shift=-0.05)
    drift = detect_drift(QUALITY, points)
    assert drift is not None
    assert 21 <= _day_index(drift.detected) <= 23
    assert 16 <= _day_index(drift.since) <= 21  # the onset it names is near the shift
    assert drift.change == pytest.approx(-0.05, abs=0.025)
    assert drift.baseline == pytest.approx(0.85, rel=0.01)


@pytest.mark.parametrize("seed", range(12))
def test_a_five_percent_latency_rise_is_caught_within_three_days(seed: int) -> None:
    points = _series(seed, 1800.0, 30, shift_after=20, shift=0.05)
    drift = detect_drift(LATENCY, points)
    assert drift is not None and 21 <= _day_index(drift.detected) <= 23
    assert drift.current > drift.baseline


@pytest.mark.parametrize("seed", range(40))
def test_a_stable_noisy_series_raises_nothing(seed: int) -> None:
    assert detect_drift(QUALITY, _series(seed, 0.85, 90)) is None
    assert detect_drift(LATENCY, _series(seed + 1000, 1800.0, 90)) is None


@pytest.mark.parametrize("seed", range(6))
def test_a_change_for_the_better_is_not_an_alert(seed: int) -> None:
    assert detect_drift(QUALITY, _series(seed, 0.80, 30, shift_after=20, shift=0.05)) is None
    assert detect_drift(LATENCY, _series(seed, 1800.0, 30, shift_after=20, shift=-0.10)) is None


def test_a_tiny_shift_on_a_very_steady_series_is_below_the_minimum_change() -> None:
    points = _series(3, 0.90, 40, noise=0.001, shift_after=20, shift=-0.01)
    assert detect_drift(QUALITY, points) is None
    assert detect_drift(QUALITY, points, DriftSettings(min_change=0.005)) is not None


def test_a_flat_history_still_judges_real_shifts() -> None:
    points = _daily([0.9] * 15 + [0.8] * 3)
    drift = detect_drift(QUALITY, points)
    assert drift is not None
    assert (drift.since, drift.detected) == (points[15][0], points[15][0])
    assert drift.describe(lambda v: f"{v:.0%}") == (
        f"Check pass rate down 11.1% since {points[15][0]} (90% → 80%)"
    )
    assert drift.key == f"pass_rate@{points[15][0]}"


def test_too_short_a_series_is_not_judged() -> None:
    assert detect_drift(QUALITY, _daily([0.9] * 5 + [0.1])) is None
    assert detect_drift(QUALITY, []) is None
