"""Cost from a price table. Prices are USD per million tokens and dated, so history keeps the
price that was paid. A model with no price is *unpriced*: cost None, never a silent 0."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmbench.core.models import Price, Usage

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class DatedPrice:
    model: str
    from_date: str  # ISO date; the price applies from this day on
    price: Price


def cost_of(usage: Usage, price: Price | None) -> float | None:
    """Cost of one call; cached prompt tokens are billed at the cached rate."""
    if price is None:
        return None
    uncached = max(usage.prompt_tokens - usage.cached_tokens, 0)
    return (
        uncached * price.input
        + usage.cached_tokens * price.cached
        + usage.completion_tokens * price.output
    ) / PER_MILLION


class PriceTable:
    """Prices by model, each a history of dated entries; the latest entry not after `on` wins."""

    def __init__(self, entries: Iterable[DatedPrice] = ()) -> None:
        self._by_model: dict[str, list[DatedPrice]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: DatedPrice) -> None:
        history = self._by_model.setdefault(entry.model, [])
        history.append(entry)
        history.sort(key=lambda item: item.from_date)

    def price(self, model: str, on: str | None = None) -> Price | None:
        history = self._by_model.get(model)
        if not history:
            return None
        if on is None:
            return history[-1].price
        day = on[:10]
        chosen = None
        for entry in history:
            if entry.from_date <= day:
                chosen = entry.price
        return chosen

    def cost(self, model: str, usage: Usage, on: str | None = None) -> float | None:
        return cost_of(usage, self.price(model, on))

    def models(self) -> list[str]:
        return sorted(self._by_model)


# The built-in offline models are simulators, priced like a small hosted model so that demo
# costs are realistic and non-zero. Users can override them like any other price.
SIMULATOR_PRICES: dict[str, Price] = {
    "llmbench/mock": Price(input=0.15, output=0.60, cached=0.075),
    "llmbench/echo": Price(input=0.15, output=0.60, cached=0.075),
}
SIMULATOR_PRICE_DATE = "2024-01-01"


def simulator_price_table() -> PriceTable:
    return PriceTable(
        DatedPrice(model, SIMULATOR_PRICE_DATE, price) for model, price in SIMULATOR_PRICES.items()
    )
