"""Drift detection on daily quality and latency series: a one-sided CUSUM against a baseline.

Thresholds miss slow decay: a pass rate that slides from 85% to 81% never crosses "below 70%".
CUSUM adds up how far each day sits on the bad side of the baseline (in units of the history's
own day-to-day spread, less a slack `k`), and raises once the sum passes `h`. A shift of about
five spreads (5% on a series whose days vary by 1%) is caught in one to three days, while
ordinary noise keeps falling back to zero.
A minimum relative change keeps statistically real but practically meaningless shifts (a very
steady series moving by 0.5%) out of the alerts list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev


@dataclass(frozen=True)
class SeriesSpec:
    """What a series measures and which way is worse."""

    key: str
    label: str
    higher_is_better: bool
    unit: str  # "ratio" (0..1), "ms", or "" for a plain number
    suggestion: str
    both_ways: bool = False
    """Watch for shifts to the good side too. Off by default: a latency that falls or a pass
    rate that rises is nobody's alert."""
    min_spread: float = 0.0
    """The smallest day-to-day spread assumed, in the series' unit: a share that sits at 0
    most days (diverging answers) has no spread to measure against, and a one-pair wobble must
    not read as a shift of a million spreads."""
    change_in_points: bool = False
    """Say the change in percentage points of a ratio (21.4 points), not relative to the
    baseline: from a baseline near 0 a relative change is a meaningless 29,000%."""


@dataclass(frozen=True)
class DriftSettings:
    min_baseline: int = 7
    """Points of normal history needed before any point is judged."""
    slack: float = 0.5
    """CUSUM's k, in spreads: deviations smaller than this never accumulate."""
    threshold: float = 5.0
    """CUSUM's h, in spreads: the alarm level."""
    min_change: float = 0.03
    """The smallest relative change (3%), over the last `recent` points, worth an alert."""
    recent: int = 3
    min_shift: float = 1.0
    """...and, in spreads, how far worse than the baseline those `recent` points must be on
    average: on a noisy series (a daily p95 of a hundred calls) 3% is within the noise."""
    relative_floor: float = 0.005
    """The spread is at least this share of the baseline, so a flat history (stdev 0) does
    not turn every wobble into infinitely many spreads."""


@dataclass(frozen=True)
class Drift:
    spec: SeriesSpec
    baseline: float
    current: float
    """The mean level from the onset to the last point: where the series stands now."""
    since: str
    """The first point of the shift (where the CUSUM started its climb)."""
    detected: str
    """The point at which the alarm fired."""
    score: float

    @property
    def change(self) -> float:
        """Relative change of the current level against the baseline (signed)."""
        return (self.current - self.baseline) / abs(self.baseline) if self.baseline else 0.0

    @property
    def harmful(self) -> bool:
        """Whether the series moved to its bad side (up for latency, cost or errors; down for
        quality and pass rates)."""
        if self.spec.higher_is_better:
            return self.current < self.baseline
        return self.current > self.baseline

    @property
    def key(self) -> str:
        """One drift, one key: the same shift found again by a later check is not a new one."""
        return f"{self.spec.key}@{self.since}"

    def describe(self, show: Callable[[float], str]) -> str:
        """One line for the alerts list; `show` formats a value of this series."""
        direction = "up" if self.current > self.baseline else "down"
        if self.spec.change_in_points:
            moved = f"{abs(self.current - self.baseline) * 100:.1f} points"
        else:
            moved = f"{abs(self.change) * 100:.1f}%"
        return (
            f"{self.spec.label} {direction} {moved} since {self.since}"
            f" ({show(self.baseline)} → {show(self.current)})"
        )


def _baseline(
    values: Sequence[float], settings: DriftSettings, min_spread: float = 0.0
) -> tuple[float, float]:
    """Mean and spread of the in-control history. The spread is widened by sqrt(1 + 1/n), the
    uncertainty of a mean estimated from n points (a self-starting CUSUM's correction), so a
    short history does not make ordinary noise look like a shift."""
    centre = fmean(values)
    spread = max(stdev(values), abs(centre) * settings.relative_floor, min_spread, 1e-12)
    return centre, spread * math.sqrt(1 + 1 / len(values))


def detect_drift(
    spec: SeriesSpec,
    points: Sequence[tuple[str, float]],
    settings: DriftSettings | None = None,
) -> Drift | None:
    """The first sustained shift to the bad side (to either side with `spec.both_ways`), or
    None.

    `points` are (label, value) in time order, labels such as 'YYYY-MM-DD'. Each point is judged
    against every earlier point that was in control (before the current climb began): the
    baseline grows with the history, and a shift in progress does not pull it along. A climb
    whose level since its onset is no longer clearly on its side (a bad day or two that has
    passed) is over, not a drift: watching starts again after it. Days with too few
    observations should be left out by the caller rather than passed as noisy values."""
    settings = settings or DriftSettings()
    bad_side = -1.0 if spec.higher_is_better else 1.0
    sides = (bad_side, -bad_side) if spec.both_ways else (bad_side,)
    found = [drift for side in sides if (drift := _one_side(spec, points, settings, side))]
    return min(found, key=lambda drift: drift.detected) if found else None


def _one_side(
    spec: SeriesSpec,
    points: Sequence[tuple[str, float]],
    settings: DriftSettings,
    worse: float,
) -> Drift | None:
    """The first sustained shift in the direction `worse` (+1 up, -1 down), or None."""
    values = [value for _, value in points]
    sums = [0.0] * len(values)  # the CUSUM after each point
    start: int | None = None
    for index in range(settings.min_baseline, len(values)):
        history = values[: index if start is None else start]
        baseline, spread = _baseline(history, settings, spec.min_spread)
        step = worse * (values[index] - baseline) / spread - settings.slack
        sums[index] = max(0.0, sums[index - 1] + step)
        if sums[index] == 0:
            start = None
            continue
        if start is None:
            start = index
        if sums[index] <= settings.threshold:
            continue
        recent = values[max(start, index - settings.recent + 1) : index + 1]
        moved = worse * (fmean(recent) - baseline)
        if moved < settings.min_change * abs(baseline) or moved < settings.min_shift * spread:
            continue
        shift = moved / spread
        deviations = [worse * (value - baseline) / spread for value in values[start : index + 1]]
        onset = start + _onset(deviations, shift)
        current = fmean(values[onset:])
        # What the alert reports is the level since the onset: it must itself be a change
        # worth an alert, on this side. A climb that has since come back is over.
        held = worse * (current - baseline)
        if held < settings.min_change * abs(baseline) or held < settings.min_shift * spread:
            sums[index], start = 0.0, None
            continue
        return Drift(
            spec=spec,
            baseline=baseline,
            current=current,
            since=points[onset][0],
            detected=points[index][0],
            score=sums[index],
        )
    return None


def _onset(deviations: Sequence[float], shift: float) -> int:
    """Where the shift most likely began, as an offset into the climb's deviations (in spreads,
    positive = worse): the start of the suffix that best fits a shift of the size now seen.
    A CUSUM with slack set to half the shift (the optimal one for that size) restarted from
    every point; noisy days that only nudged the alarm CUSUM up do not count as the shift."""
    best, best_sum, running = len(deviations) - 1, float("-inf"), 0.0
    for offset in range(len(deviations) - 1, -1, -1):
        running += deviations[offset] - shift / 2
        if running > best_sum:
            best, best_sum = offset, running
    return best
