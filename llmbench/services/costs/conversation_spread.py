"""What one conversation costs: over a breakdown by conversation, how many conversations the
window holds and the cost of one at the median, the 95th percentile, on average and at most
("the cost of one support chat"). Calls in no conversation are left out."""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.core.stats import percentiles
from llmbench.services.costs.breakdown_rows import Breakdown


@dataclass(frozen=True)
class ConversationSpread:
    conversations: int
    p50: float
    p95: float
    mean: float
    most: float


def conversation_spread(data: Breakdown) -> ConversationSpread | None:
    """None unless `data` is broken down by conversation first and has one."""
    if not data.by or data.by[0] != "conversation":
        return None
    costs = [row.figures.cost for row in data.rows if row.value not in (None, "")]
    if not costs:
        return None
    p50, p95 = percentiles(costs, (0.5, 0.95))
    return ConversationSpread(
        conversations=len(costs),
        p50=p50 or 0.0,
        p95=p95 or 0.0,
        mean=sum(costs) / len(costs),
        most=max(costs),
    )


def spread_note(data: Breakdown) -> str:
    """F5's line under a breakdown by conversation ("" for any other breakdown)."""
    spread = conversation_spread(data)
    if spread is None:
        return ""
    return (
        f"   {spread.conversations:,} conversation{'s' if spread.conversations != 1 else ''}:"
        f" cost per conversation p50 {_usd(spread.p50)} · p95 {_usd(spread.p95)}"
        f" · mean {_usd(spread.mean)} · max {_usd(spread.most)}"
    )


def _usd(value: float) -> str:
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"
