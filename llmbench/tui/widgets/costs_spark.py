"""A sparkline as text, to sit in a table cell beside the figures it summarises."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def spark_text(values: Sequence[float]) -> str:
    """One block per value, scaled to the largest; an idle day is a space, not the lowest bar,
    so a day without spend reads differently from a cheap one."""
    peak = max(values, default=0.0)
    if peak <= 0:
        return " " * len(values)
    top = len(BARS) - 1
    return "".join(
        " " if value <= 0 else BARS[min(top, int(value / peak * top + 0.5))] for value in values
    )
