"""Drift detection: a 5% slide is caught within three days; steady noise raises nothing."""

from __future__ import annotations

import random
from dataclasses import replace
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


def _spike_then_back(seed: int, jump: float, after: int = 20, days: int = 30) -> list[float]:
    """A steady latency series with one bad day (`jump` relative) on day `after`, then its
    usual level again: an incident that passed, not a drift."""
    rng = random.Random(seed)
    values = [1800.0 * (1 + rng.gauss(0, 0.01)) for _ in range(days)]
    values[after] *= 1 + jump
    return values


@pytest.mark.parametrize("seed", range(12))
def test_a_bad_day_that_passed_is_no_drift(seed: int) -> None:
    # One day 12% slower, then nine normal days: the CUSUM fires on the day, but the level
    # since is not worse — reporting it would read "down" or a change under the 3% floor.
    points = _daily(_spike_then_back(seed, 0.12))
    assert detect_drift(LATENCY, points) is None


@pytest.mark.parametrize("seed", range(12))
def test_a_latency_that_falls_raises_nothing_unless_both_ways_are_asked(seed: int) -> None:
    points = _series(seed, 1800.0, 30, shift_after=20, shift=-0.08)
    assert detect_drift(LATENCY, points) is None
    both = detect_drift(replace(LATENCY, both_ways=True), points)
    assert both is not None and not both.harmful and both.change < -0.03
    # Asking both ways still finds a harmful shift, and calls it harmful.
    rising = _series(seed, 1800.0, 30, shift_after=20, shift=0.08)
    found = detect_drift(replace(LATENCY, both_ways=True), rising)
    assert found is not None and found.harmful and found.change > 0.03


def test_every_drift_reported_is_harmful_and_as_large_as_the_floor() -> None:
    """Over many noisy series with shifts both ways and passing bad days, whatever is reported
    moved to the bad side by at least the minimum change, as its own words say."""
    settings = DriftSettings()
    for seed in range(60):
        rng = random.Random(seed)
        shift = rng.choice([-0.1, -0.05, 0.0, 0.05, 0.1])
        values = [v for _, v in _series(seed, 1800.0, 30, noise=0.02, shift_after=18,
                                         shift=shift)]  # fmt: skip
        values[rng.randrange(8, 30)] *= 1 + rng.choice([-0.2, 0.2])
        for spec in (LATENCY, QUALITY):
            drift = detect_drift(spec, _daily(values), settings)
            if drift is None:
                continue
            assert drift.harmful, (seed, spec.key, drift)
            assert abs(drift.change) >= settings.min_change, (seed, spec.key, drift)
            word = "down" if spec.higher_is_better else "up"
            assert f" {word} " in drift.describe(str)


def test_a_share_that_is_zero_most_days_needs_a_real_rise() -> None:
    """Diverging answers sit at 0 on most days: without a floor on the spread, one odd pair on a
    quiet day would be a shift of a million spreads."""
    spec = SeriesSpec(
        "consistency:x", "x diverging answers", False, "ratio", "", min_spread=0.01,
        change_in_points=True,
    )  # fmt: skip
    quiet = [0.0] * 10 + [0.002, 0.0, 0.003, 0.0]
    assert detect_drift(spec, _daily(quiet)) is None
    assert detect_drift(replace(spec, min_spread=0.0), _daily(quiet)) is not None
    outage = [0.0] * 10 + [0.12, 0.3, 0.35]
    drift = detect_drift(spec, _daily(outage))
    assert drift is not None and drift.since == _daily(outage)[10][0] and drift.harmful
    assert drift.describe(lambda value: f"{value:.0%}").startswith(
        f"x diverging answers up 25.7 points since {drift.since} (0% → 26%)"
    )
