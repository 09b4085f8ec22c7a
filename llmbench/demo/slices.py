"""How the demo's month is cut into slices of clock hours, each generated, finished and written
before the next, so a build holds one slice of calls in memory however many it makes.

Slices are runs of whole hours of equal traffic (by the hours' seasonal weights), so each holds
about the same number of calls; a count spread over them is apportioned by cumulative weight,
which sums to the count exactly. One slice is the whole window: the demo up to a slice's size
is drawn exactly as a demo generated all at once."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class HourSlice:
    """Hours [first, end) of the window's hour list; `low` their share of the cumulative weight
    before them and `high` through them (0..1)."""

    first: int
    end: int
    low: float
    high: float


def hour_slices(cumulative: Sequence[float], parts: int) -> list[HourSlice]:
    """Cut hours with these cumulative weights into at most `parts` runs of about equal weight
    (fewer when an hour outweighs a part: an hour is never split)."""
    total = cumulative[-1]
    bounds = [0]
    for part in range(1, max(1, min(parts, len(cumulative)))):
        bound = bisect_left(cumulative, total * part / parts) + 1
        if bounds[-1] < bound < len(cumulative):
            bounds.append(bound)
    bounds.append(len(cumulative))
    return [
        HourSlice(
            first=first,
            end=end,
            low=0.0 if first == 0 else cumulative[first - 1] / total,
            high=1.0 if end == len(cumulative) else cumulative[end - 1] / total,
        )
        for first, end in pairwise(bounds)
    ]


def share(count: int, piece: HourSlice) -> int:
    """The slice's part of `count`, apportioned so that the parts add up to `count`."""
    return round(count * piece.high) - round(count * piece.low)


def parts_for(calls: int, slice_calls: int) -> int:
    """How many slices a demo of `calls` is generated in."""
    return max(1, -(-calls // max(1, slice_calls)))
