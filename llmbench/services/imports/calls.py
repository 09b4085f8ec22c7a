"""Importing other tools' calls into the audit log: all or nothing, priced, never twice.

A source with any unreadable row is refused whole, with every problem's file and line. Calls
whose request id the log already holds (or that repeat one earlier in the same source) are
skipped, so importing a file again adds nothing. Calls that came without a cost are priced at
the price of their day (the user's dated overrides, else litellm's table); a model with no
price stays unpriced and is listed by the Costs pane, never counted as free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from llmbench.gateway.chain_head import record_head
from llmbench.gateway.chain_key import chain_key_for
from llmbench.importers.calls.common import CallImportError, CallOrProblem, ParsedCalls
from llmbench.services.imports.preparation import (
    DatedPriceLookup,
    ImportOutcome,
    ImportTally,
    Progress,
    call_items,
    dated_prices,
    sealed_chunks,
)
from llmbench.services.imports.reader_process import import_in_two_processes
from llmbench.store.audit.bulk_index import full_text_in_one_pass
from llmbench.store.audit.log import chain_head, insert_sealed
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.store.db import Database

# From this size a source is read, priced and sealed in a second process while this one
# writes: below it, starting that process costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


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
    key = chain_key_for(store)
    tally = ImportTally()

    def write(db: Database) -> None:
        chunks = sealed_chunks(
            items,
            log=db,
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
    record_head(store, key)
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
        return import_in_two_processes(store, kind, path, mapping, progress)
    return _import_here(store, str(path), call_items(kind, path, mapping, progress), prices)
