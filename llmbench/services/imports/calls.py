"""Importing other tools' calls into the audit log: all or nothing, priced, never twice.

A source with any unreadable row is refused whole, with every problem's file and line. Calls
whose request id the log already holds (or that repeat one earlier in the same source) are
skipped, so importing a file again adds nothing. Calls that came without a cost are priced at
the price of their day (the user's dated overrides, else litellm's table); a model with no
price stays unpriced and is listed by the Costs pane, never counted as free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.gateway.chain_key import load_chain_key
from llmbench.importers.calls.common import (
    CallImportError,
    CallOrProblem,
    ImportProblem,
    ParsedCalls,
)
from llmbench.store.audit.bulk_index import full_text_in_one_pass
from llmbench.store.audit.log import chain_head, database_id, insert_sealed, seal_calls
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.store.db import Database

Progress = Callable[[int, int], None]
DatedPriceLookup = Callable[[str, str], Price | None]  # (model, ts) → price on that day
KnownIds = Callable[[list[str]], set[str]]  # which of these request ids the log holds
CHUNK = 20_000
# From this size a source is read, priced and sealed in a second process while this one
# writes: below it, starting that process costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    read: int
    added: int
    skipped: int  # already in the log, or repeated in the source
    unpriced: int


@dataclass
class ImportTally:
    read: int = 0
    added: int = 0
    unpriced: int = 0

    def outcome(self, source: str) -> ImportOutcome:
        return ImportOutcome(source, self.read, self.added, self.read - self.added, self.unpriced)


def dated_prices(db: Database) -> DatedPriceLookup:
    """A call's price on its day: the user's overrides first, else litellm's current table."""
    from llmbench.store.costs.prices import load_price_table

    table = load_price_table(db)
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


def _price(calls: list[dict[str, Any]], prices: DatedPriceLookup) -> int:
    """Price the calls that came without a cost; return how many stay unpriced."""
    unpriced = 0
    for call in calls:
        if call.get("cost") is not None:
            continue
        price = prices(call["model"], call["ts"])
        if price is None:
            unpriced += 1
            continue
        usage = Usage(
            prompt_tokens=call["prompt_tokens"],
            completion_tokens=call["completion_tokens"],
            cached_tokens=call.get("cached_tokens", 0),
        )
        call["cost"] = cost_of(usage, price)
        call["input_price"], call["output_price"] = price.input, price.output
        call["cached_price"] = price.cached
    return unpriced


def call_items(
    kind: str, path: Path, mapping: dict[str, str] | None, progress: Progress | None
) -> Iterator[CallOrProblem]:
    """The calls and problems of `path` read as `kind` ('llm-logs', 'jsonl' or 'usage-csv')."""
    if kind == "llm-logs":
        from llmbench.importers.calls.llm_logs import iter_llm_logs

        return iter_llm_logs(path, progress)
    if kind == "jsonl":
        from llmbench.importers.calls.jsonl import iter_jsonl_calls

        return iter_jsonl_calls(path, mapping, progress)
    if kind == "usage-csv":
        from llmbench.importers.calls.usage_csv import iter_usage_csv

        return iter_usage_csv(path, progress)
    raise ValueError(f"unknown import kind {kind!r}")


def sealed_chunks(
    items: Iterable[CallOrProblem],
    *,
    known: KnownIds,
    prices: DatedPriceLookup,
    key: bytes,
    head: tuple[int, str],
    tally: ImportTally,
) -> Iterator[list[tuple[Any, ...]]]:
    """The new calls of `items` priced and sealed onto the chain from `head`, a chunk at a time,
    for `insert_sealed`. Calls already in the log, or earlier in the source, are skipped. After
    the first problem nothing more is yielded; the rest is read for its problems and
    CallImportError names them all, so the caller's transaction is rolled back whole."""
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    batch: list[dict[str, Any]] = []

    def seal_batch() -> list[tuple[Any, ...]]:
        nonlocal head
        tally.unpriced += _price(batch, prices)
        in_log = known([call["request_id"] for call in batch])
        fresh = []
        for call in batch:
            request_id = call["request_id"]
            if request_id in in_log or request_id in seen:
                continue
            seen.add(request_id)
            fresh.append(call)
        rows, head = seal_calls(key, head, fresh)
        tally.added += len(rows)
        batch.clear()
        return rows

    for item in items:
        if isinstance(item, ImportProblem):
            problems.append(item)
            continue
        tally.read += 1
        if problems:
            continue
        batch.append(item)
        if len(batch) >= CHUNK:
            yield seal_batch()
    if problems:
        raise CallImportError(problems)
    if batch:
        yield seal_batch()


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
    total = len(parsed.calls)

    def written(tally: ImportTally) -> None:
        if progress:
            progress(tally.read, total)

    return _import_here(store, parsed.source, parsed.calls, prices, written)


def _import_here(
    store: Store,
    source: str,
    items: Iterable[CallOrProblem],
    prices: DatedPriceLookup | None,
    written: Callable[[ImportTally], None] | None = None,
) -> ImportOutcome:
    lookup = prices or dated_prices(store.read())
    key = load_chain_key(database_id(store.read()))
    tally = ImportTally()

    def write(db: Database) -> None:
        chunks = sealed_chunks(
            items,
            known=lambda ids: costs_repo.existing_request_ids(db, ids),
            prices=lookup,
            key=key,
            head=chain_head(db),
            tally=tally,
        )
        with full_text_in_one_pass(db):
            for rows in chunks:
                insert_sealed(db, rows)
                if written:
                    written(tally)

    store.write(write)
    return tally.outcome(source)


def import_file(
    store: Store,
    kind: str,
    path: Path,
    mapping: dict[str, str] | None = None,
    prices: DatedPriceLookup | None = None,
    progress: Progress | None = None,
    *,
    parallel: bool | None = None,
) -> ImportOutcome:
    """Read `path` as `kind` ('llm-logs', 'jsonl' or 'usage-csv') and import it in one
    transaction, or raise CallImportError and write nothing.

    A large source (or any, with parallel=True) is read, priced and sealed by a second process
    while this one writes, which keeps both cores busy; `prices` must then be None (the
    store's dated prices), as a function cannot be handed to another process."""
    if parallel is None:
        parallel = prices is None and path.is_file() and path.stat().st_size >= PARALLEL_MIN_BYTES
    if parallel:
        if prices is not None:
            raise ValueError("a parallel import prices from the store: pass prices=None")
        from llmbench.services.imports.reader_process import import_in_two_processes

        return import_in_two_processes(store, kind, path, mapping, progress)
    return _import_here(store, str(path), call_items(kind, path, mapping, progress), prices)
