"""Setting and listing prices; what the gateway uses to override litellm's table."""

from __future__ import annotations

from datetime import UTC, datetime

from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Price
from llmbench.store.costs import prices as prices_repo
from llmbench.store.db import Store


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def set_price(store: Store, model: str, price: Price, from_date: str | None = None) -> DatedPrice:
    if min(price.input, price.output, price.cached) < 0:
        raise ValueError("prices cannot be negative")
    day = from_date or today()
    try:
        datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{day!r} is not a date (YYYY-MM-DD)") from None
    entry = DatedPrice(model, day, price)
    store.write(lambda db: prices_repo.set_price(db, entry, source="user"))
    return entry


def listing(store: Store) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    db = store.read()
    return prices_repo.price_rows(db), prices_repo.unpriced_models(db)
