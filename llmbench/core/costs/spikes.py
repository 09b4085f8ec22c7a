"""Spend spikes: a bucket (an hour or a day) of one scope's spend far above its own history,
and how spikes that touch in time group into one incident.

Robust z-score: the bucket against the median and MAD of its baseline — for an hour, the same
hour of the previous days (traffic has a daily rhythm, so 3 pm is compared with other 3 pms);
for a day, the previous days. A spike must be both improbable (z) and material (a multiple of
the baseline and a minimum excess in dollars), so a quiet scope's few cents never page anyone
and a busy day that is merely unusual is not a spike.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class SpikeSettings:
    history: int = 14  # baseline buckets: days for a daily series, same-hour days for hourly
    min_history: int = 7
    z: float = 6.0
    ratio: float = 2.5  # at least this multiple of the baseline median
    min_excess: float = 0.01  # USD above the median
    scale_floor: float = 0.05  # the spread assumed is at least this share of the median


@dataclass(frozen=True)
class Spike:
    bucket: str  # 'YYYY-MM-DDTHH' for an hour, 'YYYY-MM-DD' for a day
    cost: float
    baseline: float  # median of the baseline buckets
    z: float

    @property
    def ratio(self) -> float:
        return self.cost / self.baseline if self.baseline > 0 else float("inf")


def _score(
    value: float, baseline: Sequence[float], settings: SpikeSettings, min_excess: float
) -> Spike | None:
    median = statistics.median(baseline)
    if median <= 0:
        # A scope idle most of the time has no "usual" to be far above: its bursts are what
        # it does, and a runaway from nothing still shows in the global series.
        return None
    mad = statistics.median(abs(x - median) for x in baseline)
    scale = max(MAD_TO_SIGMA * mad, settings.scale_floor * median)
    z = (value - median) / scale
    if z < settings.z or value - median < max(settings.min_excess, min_excess):
        return None
    if value < settings.ratio * median:
        return None
    return Spike("", value, median, z)


def _spike_at(
    bucket: str,
    value: float,
    baseline: list[float],
    settings: SpikeSettings,
    min_excess: float,
) -> Spike | None:
    """The bucket's spike, if its history is long enough to judge and it is far above it."""
    if len(baseline) < settings.min_history:
        return None
    spike = _score(value, baseline, settings, min_excess)
    return None if spike is None else Spike(bucket, spike.cost, spike.baseline, spike.z)


def daily_spikes(
    spend: Mapping[str, float],
    first: str,
    last: str,
    settings: SpikeSettings | None = None,
    min_excess: float = 0.0,
) -> list[Spike]:
    """Spiking days in [first, last] ('YYYY-MM-DD'); days missing from `spend` spent 0.
    `min_excess` raises the settings' minimum excess (e.g. to a share of the global spend)."""
    settings = settings or SpikeSettings()
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    values = [spend.get(day, 0.0) for day in days]
    found = (
        _spike_at(day, values[index], values[max(0, index - settings.history) : index],
                  settings, min_excess)
        for index, day in enumerate(days)
    )  # fmt: skip
    return [spike for spike in found if spike is not None]


def hourly_spikes(
    spend: Mapping[str, float],
    first: str,
    last: str,
    settings: SpikeSettings | None = None,
    min_excess: float = 0.0,
) -> list[Spike]:
    """Spiking hours in [first, last] ('YYYY-MM-DDTHH'), each against the same hour of the
    previous `history` days; hours missing from `spend` spent 0."""
    settings = settings or SpikeSettings()
    start = datetime.strptime(first, "%Y-%m-%dT%H")
    end = datetime.strptime(last, "%Y-%m-%dT%H")
    hours = int((end - start).total_seconds() // 3600) + 1
    found = []
    for offset in range(hours):
        moment = start + timedelta(hours=offset)
        baseline = []
        for back in range(1, settings.history + 1):
            earlier = moment - timedelta(days=back)
            if earlier < start:
                break
            baseline.append(spend.get(earlier.strftime("%Y-%m-%dT%H"), 0.0))
        bucket = moment.strftime("%Y-%m-%dT%H")
        found.append(_spike_at(bucket, spend.get(bucket, 0.0), baseline, settings, min_excess))
    return [spike for spike in found if spike is not None]


def touching_groups(spans: Sequence[tuple[datetime, datetime]]) -> list[list[int]]:
    """The indices of `spans` ([start, end) pairs) grouped so that spans which overlap, or
    follow one another with no gap, fall in one group (transitively): the buckets of one
    incident. Groups come in order of their start, indices in each in order of start."""
    order = sorted(range(len(spans)), key=lambda index: spans[index])
    groups: list[list[int]] = []
    end: datetime | None = None
    for index in order:
        start, stop = spans[index]
        if groups and end is not None and start <= end:
            groups[-1].append(index)
            end = max(end, stop)
        else:
            groups.append([index])
            end = stop
    return groups
