"""Small descriptive statistics for the Monitor: percentiles and histograms.

Pure functions over plain sequences, so the store can hand over rows and the TUI only formats.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of values already sorted ascending (None when empty)."""
    if not sorted_values:
        return None
    return float(sorted_values[nearest_rank(fraction, len(sorted_values)) - 1])


def nearest_rank(fraction: float, count: int) -> int:
    """The 1-based rank of the `fraction` percentile among `count` ordered values (count ≥ 1)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"a percentile fraction is between 0 and 1, not {fraction}")
    return max(math.ceil(fraction * count), 1)


def percentiles(values: Iterable[float], fractions: Sequence[float]) -> list[float | None]:
    ordered = sorted(values)
    return [percentile(ordered, fraction) for fraction in fractions]


@dataclass(frozen=True)
class Histogram:
    """Counts per bin; bin i holds values in [edges[i], edges[i + 1]) (the last bin is closed)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


def log_histogram(values: Sequence[float], bins: int = 16) -> Histogram:
    """Log-spaced bins from the smallest positive value to the largest: token counts are close to
    log-normal, so equal-width bins would put nearly everything in the first one or two.
    Counting is by bisection of the sorted values, not a loop over them."""
    if bins < 1:
        raise ValueError("a histogram needs at least one bin")
    ordered = sorted(values)
    first = bisect_right(ordered, 0)
    if first == len(ordered):
        return Histogram(edges=(), counts=())
    low, high = ordered[first], ordered[-1]
    if high == low:
        return Histogram(edges=(low, high), counts=(len(ordered) - first,))
    step = (math.log(high) - math.log(low)) / bins
    # 12 significant digits: exp(log(10) + log(10)) is 100.00000000000004, and a value of 100
    # belongs in the bin that starts at 100.
    inner = (float(f"{math.exp(math.log(low) + step * index):.12g}") for index in range(1, bins))
    edges = [low, *inner, high]
    cuts = [first, *(bisect_left(ordered, edge) for edge in edges[1:-1]), len(ordered)]
    counts = tuple(cuts[index + 1] - cuts[index] for index in range(bins))
    return Histogram(edges=tuple(edges), counts=counts)
