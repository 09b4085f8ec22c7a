"""A model's price as the models view's dialog (F8, `p`) takes it: the fields of
`llmbench prices set`, read and checked before anything is written, so a typo is told in the
dialog and saves nothing. Saving goes through `services.costs.prices.set_price`, as the CLI's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Price
from llmbench.services.costs.prices import set_price
from llmbench.store.db import Store

FIELD_NAMES = {
    "input": "Input",
    "output": "Output",
    "cached": "Cached input",
}


@dataclass(frozen=True)
class PriceEntry:
    model: str
    price: Price
    from_date: str


def _usd(text: str, field: str) -> float:
    label = FIELD_NAMES[field]
    try:
        value = float(text.strip().removeprefix("$").replace(",", ""))
    except ValueError:
        raise ValueError(f"{label}: {text.strip()!r} is not a number (USD per 1M tokens)") from None
    if not math.isfinite(value):
        raise ValueError(f"{label}: write a finite number of USD per 1M tokens")
    if value < 0:
        raise ValueError("prices cannot be negative")
    return value


def read_price_entry(
    model: str, input_usd: str, output_usd: str, cached_usd: str, from_date: str
) -> PriceEntry:
    """The price the dialog's fields describe, or ValueError saying what to fix. As with the
    CLI, the input price is also the cached input's price unless one is given."""
    if not input_usd.strip() or not output_usd.strip():
        raise ValueError("Input and Output prices are required (USD per 1M tokens)")
    input_price = _usd(input_usd, "input")
    output_price = _usd(output_usd, "output")
    cached_price = _usd(cached_usd, "cached") if cached_usd.strip() else input_price
    day = from_date.strip()
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{day!r} is not a date (YYYY-MM-DD)") from None
    return PriceEntry(model, Price(input_price, output_price, cached_price), day)


def save_price_entry(store: Store, entry: PriceEntry) -> DatedPrice:
    """Write the price to the prices table (dated, as `llmbench prices set` does)."""
    return set_price(store, entry.model, entry.price, entry.from_date)
