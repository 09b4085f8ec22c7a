"""Importing other tools' calls into the audit log: all or nothing, priced, never twice.

A source with any unreadable row is refused whole, with every problem's file and line. Calls
whose request id the log already holds (or that repeat one earlier in the same source) are
skipped, so importing a file again adds nothing. Calls that came without a cost are priced at
the price of their day (the user's dated overrides, else litellm's table); a model with no
price stays unpriced and is listed by the Costs pane, never counted as free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmbench.core.models import Price, Usage
from llmbench.core.pricing import cost_of
from llmbench.importers.calls_common import CallImportError, ParsedCalls
from llmbench.store import costs as costs_repo
from llmbench.store.audit import append_calls, database_id
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.store.db import Database

Progress = Callable[[int, int], None]
DatedPriceLookup = Callable[[str, str], Price | None]  # (model, ts) → price on that day
CHUNK = 20_000


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    read: int
    added: int
    skipped: int  # already in the log, or repeated in the source
    unpriced: int


def dated_prices(store: Store) -> DatedPriceLookup:
    """A call's price on its day: the user's overrides first, else litellm's current table."""
    from llmbench.store.prices import load_price_table

    table = load_price_table(store.read())
    litellm: dict[str, Price | None] = {}

    def lookup(model: str, ts: str) -> Price | None:
        price = table.price(model, ts)
        if price is not None:
            return price
        if model not in litellm:
            from llmbench.gateway.client import price_for

            try:
                litellm[model] = price_for(model)
            except Exception:  # a model litellm cannot place is unpriced, not a failed import
                litellm[model] = None
        return litellm[model]

    return lookup


def _price(calls: list[dict[str, Any]], prices: DatedPriceLookup) -> None:
    for call in calls:
        if call.get("cost") is not None:
            continue
        price = prices(call["model"], call["ts"])
        if price is None:
            continue
        usage = Usage(
            prompt_tokens=call["prompt_tokens"],
            completion_tokens=call["completion_tokens"],
            cached_tokens=call.get("cached_tokens", 0),
        )
        call["cost"] = cost_of(usage, price)
        call["input_price"], call["output_price"] = price.input, price.output
        call["cached_price"] = price.cached


def import_parsed(
    store: Store,
    parsed: ParsedCalls,
    prices: DatedPriceLookup | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Write `parsed` into the log in one transaction, or raise CallImportError and write
    nothing."""
    if parsed.problems:
        raise CallImportError(parsed.problems)
    calls = parsed.calls
    _price(calls, prices or dated_prices(store))

    from llmbench.gateway.chain_key import load_chain_key

    key = load_chain_key(database_id(store.read()))

    def write(db: Database) -> int:
        known = costs_repo.existing_request_ids(db, [call["request_id"] for call in calls])
        fresh = []
        for call in calls:
            if call["request_id"] in known:
                continue
            known.add(call["request_id"])
            fresh.append(call)
        for start in range(0, len(fresh), CHUNK):
            append_calls(db, key, fresh[start : start + CHUNK])
            if progress:
                progress(min(start + CHUNK, len(fresh)), len(fresh))
        return len(fresh)

    added = store.write(write)
    unpriced = sum(1 for call in calls if call.get("cost") is None)
    return ImportOutcome(parsed.source, len(calls), added, len(calls) - added, unpriced)


def import_file(
    store: Store,
    kind: str,
    path: Path,
    mapping: dict[str, str] | None = None,
    prices: DatedPriceLookup | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Read `path` as `kind` ('llm-logs', 'jsonl' or 'usage-csv') and import it."""
    if kind == "llm-logs":
        from llmbench.importers.llm_logs import read_llm_logs

        parsed = read_llm_logs(path, progress)
    elif kind == "jsonl":
        from llmbench.importers.jsonl_calls import read_jsonl_calls

        parsed = read_jsonl_calls(path, mapping, progress)
    elif kind == "usage-csv":
        from llmbench.importers.usage_csv import read_usage_csv

        parsed = read_usage_csv(path, progress)
    else:
        raise ValueError(f"unknown import kind {kind!r}")
    return import_parsed(store, parsed, prices, progress)
