"""Preparing other tools' calls for the audit log, in whichever process reads them: the source
read as calls and problems, each call priced at its day's price, calls the log already holds
(or repeated in the source) skipped, and the rest sealed onto the audit chain a chunk at a time.
A model with no price stays unpriced, never counted as free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.importers.calls.common import CallImportError, CallOrProblem, ImportProblem
from llmbench.store.audit.log import seal_calls
from llmbench.store.costs.import_dedup import existing_request_ids

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
            from llmbench.gateway.model_prices import price_for

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
            reasoning_tokens=call.get("reasoning_tokens"),
            cache_write_tokens=call.get("cache_write_tokens"),
        )
        call["cost"] = cost_of(usage, price)
        call["input_price"], call["output_price"] = price.input, price.output
        call["cached_price"] = price.cached
        # Their own rates, as the gateway records them, on the calls that have such tokens.
        if usage.reasoning_tokens:
            call["reasoning_price"] = price.reasoning
        if usage.cache_write_tokens:
            call["cache_write_price"] = price.cache_write
    return unpriced


def call_items(
    kind: str, path: Path, mapping: dict[str, str] | None, progress: Progress | None
) -> Iterator[CallOrProblem]:
    """The calls and problems of `path` read as `kind` ('llm-logs', 'jsonl', 'usage-csv' or
    'otlp')."""
    if kind == "llm-logs":
        from llmbench.importers.calls.llm_logs import iter_llm_logs

        return iter_llm_logs(path, progress)
    if kind == "jsonl":
        from llmbench.importers.calls.jsonl import iter_jsonl_calls

        return iter_jsonl_calls(path, mapping, progress)
    if kind == "usage-csv":
        from llmbench.importers.calls.usage_csv import iter_usage_csv

        return iter_usage_csv(path, progress)
    if kind == "otlp":
        from llmbench.importers.calls.otlp_file import iter_otlp_calls

        return iter_otlp_calls(path, progress)
    raise ValueError(f"unknown import kind {kind!r}")


def sealed_chunks(
    items: Iterable[CallOrProblem],
    *,
    log: Database,
    prices: DatedPriceLookup,
    key: bytes,
    head: tuple[int, str],
    tally: ImportTally,
) -> Iterator[list[tuple[Any, ...]]]:
    """The new calls of `items` priced and sealed onto the chain from `head`, a chunk at a time,
    for `insert_sealed`. Calls already in `log`, or earlier in the source, are skipped. After
    the first problem nothing more is yielded; the rest is read for its problems and
    CallImportError names them all, so the caller's transaction is rolled back whole."""
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    batch: list[dict[str, Any]] = []

    def seal_batch() -> list[tuple[Any, ...]]:
        nonlocal head
        tally.unpriced += _price(batch, prices)
        in_log = existing_request_ids(log, [call["request_id"] for call in batch])
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
