"""Dated model prices (USD per million tokens), loaded into a core PriceTable.

Write functions run inside a writer job (`Store.write`); readers take any connection.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from llmbench.core.costs.pricing import (
    SIMULATOR_PRICE_DATE,
    SIMULATOR_PRICES,
    DatedPrice,
    PriceTable,
)
from llmbench.core.models import Price

SIMULATOR_SOURCE = "builtin"


def set_price(db: Database, entry: DatedPrice, *, source: str = "user") -> None:
    """Add or replace the price of `entry.model` from `entry.from_date` on."""
    db.execute(
        "INSERT INTO prices (model, from_date, input, output, cached, source)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, from_date) DO UPDATE SET"
        " input = excluded.input, output = excluded.output, cached = excluded.cached,"
        " source = excluded.source",
        [
            entry.model,
            entry.from_date,
            entry.price.input,
            entry.price.output,
            entry.price.cached,
            source,
        ],
    )


def set_prices(db: Database, entries: Iterable[tuple[DatedPrice, str]]) -> int:
    count = 0
    for entry, source in entries:
        set_price(db, entry, source=source)
        count += 1
    return count


def simulator_prices() -> list[tuple[DatedPrice, str]]:
    return [
        (DatedPrice(model, SIMULATOR_PRICE_DATE, price), SIMULATOR_SOURCE)
        for model, price in SIMULATOR_PRICES.items()
    ]


def load_price_table(db: Database) -> PriceTable:
    return PriceTable(
        DatedPrice(row[0], row[1], Price(input=row[2], output=row[3], cached=row[4]))
        for row in db.execute(
            "SELECT model, from_date, input, output, cached FROM prices ORDER BY model, from_date"
        )
    )


def price_rows(db: Database) -> list[dict[str, object]]:
    return list(db.query("SELECT * FROM prices ORDER BY model, from_date"))


def unpriced_models(db: Database) -> list[dict[str, object]]:
    """Models whose answered calls have no cost, with their token volume: never hidden."""
    return list(
        db.query(
            "SELECT model, count(*) AS calls, sum(prompt_tokens) AS prompt_tokens,"
            " sum(completion_tokens) AS completion_tokens FROM calls"
            " WHERE cost IS NULL AND status = 'ok' GROUP BY model ORDER BY calls DESC"
        )
    )
