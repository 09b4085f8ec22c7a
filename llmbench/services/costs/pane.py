"""What F5 reads in one go: the breakdown it shows, the models it cannot price, the budgets
with their spend so far, and the budget and spike alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from llmbench.services.costs import breakdowns as costs
from llmbench.services.costs import budgets as budget_service
from llmbench.services.costs.budgets import BudgetStatus
from llmbench.store.alerts import AlertRow
from llmbench.store.db import Store

# The breakdowns F5 steps through with `g`, most asked-for first.
VIEWS: tuple[tuple[str, ...], ...] = (
    ("feature", "model"),
    ("model", "feature"),
    ("team", "model"),
    ("customer", "model"),
    ("prompt", "version"),
    ("task_type", "model"),
    ("provider", "model"),
    ("user",),
    ("conversation", "model"),
    ("day",),
    ("week",),
    ("month",),
)
WINDOWS = ("7d", "30d", "90d")


@dataclass(frozen=True)
class CostsPane:
    window: str
    breakdown: costs.Breakdown
    unpriced: list[tuple[str, int, int, int]]
    budgets: list[BudgetStatus]
    alerts: list[AlertRow]


def read_costs_pane(
    store: Store,
    by: Sequence[str],
    now: datetime,
    window: str = "30d",
    filters: Mapping[str, costs.Key] | None = None,
    *,
    reprice: bool = False,
) -> CostsPane:
    """The pane's data; with `reprice` every row also carries its cost at today's prices."""
    since, until = costs.window(window, None, now)
    prices = costs.current_prices(store) if reprice else None
    breakdown = costs.breakdown(store, by, since, until, filters, prices=prices)
    return CostsPane(
        window=window,
        breakdown=breakdown,
        unpriced=costs.unpriced_models(store, since, until, None if filters else breakdown),
        budgets=budget_service.budget_status(store, now),
        alerts=budget_service.cost_alerts(store),
    )
