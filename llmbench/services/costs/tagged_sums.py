"""Breakdowns by a dimension most calls leave empty (the conversation), without reading every
call of the window.

No daily rollup can hold a conversation (there are as many as there are chats), so such a
breakdown used to read every call of its window: 20 s over 30 days of a 10M-call log. In most
logs few calls carry one (those the SDK or the callback sent from a chat) and the rest share one
untagged group. When the tagged calls are at most half the window's, they are read on their
partial index, and the untagged group is the window's sums by the other dimensions (whole days
from the rollups) less the tagged calls' sums, both in one read transaction. A log whose calls
mostly carry one is read whole, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.costs.breakdowns import GroupedRow
from llmbench.store.db import Store

Key = str | int | None
Grouping = Callable[[Store, Sequence[str], str, str, Mapping[str, Key]], list[GroupedRow]]
_SUMMED = (
    "calls", "prompt_tokens", "completion_tokens", "cached_tokens", "cost", "saving",
    "unpriced", "reasoning_tokens", "cache_write_tokens",
)  # fmt: skip


def sparse_dimension(columns: Sequence[str], filters: Mapping[str, Key]) -> str | None:
    """The grouped dimension to read on its partial index, if any (a breakdown that filters on
    it already reads only its calls)."""
    return next(
        (name for name in columns if name in costs_repo.TAGGED_INDEXES and name not in filters),
        None,
    )


def grouped(
    store: Store,
    dimension: str,
    columns: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key],
    whole: Grouping,
) -> list[GroupedRow] | None:
    """What `whole` would return for `columns`, its tagged rows read on `dimension`'s partial
    index and its untagged rows netted from `whole`'s sums by the other columns; None when the
    log's tagged calls are more than half the window's (reading the window costs less)."""
    db = store.read()
    others = [name for name in columns if name != dimension]
    with costs_repo.snapshot(db):
        totals = whole(store, others, since, until, filters)
        half = sum(row.calls for row in totals) // 2
        if costs_repo.tagged_at_most(db, dimension, half + 1) > half:
            return None
        tagged = costs_repo.grouped(db, columns, since, until, filters, tagged=dimension)
    slots = [index for index, name in enumerate(columns) if name == dimension]

    def untagged_keys(rest: tuple[Key, ...]) -> tuple[Key, ...]:
        remaining = iter(rest)
        return tuple(None if index in slots else next(remaining) for index in range(len(columns)))

    untagged = {
        (keys, row.day): replace(row, keys=keys)
        for row in totals
        for keys in [untagged_keys(row.keys)]
    }
    for row in tagged:
        rest = tuple(key for index, key in enumerate(row.keys) if index not in slots)
        base = untagged.get((untagged_keys(rest), row.day))
        if base is None:  # a call the totals' snapshot cannot lack; kept as read if it does
            continue
        for name in _SUMMED:
            setattr(base, name, getattr(base, name) - getattr(row, name))
    return tagged + [row for row in untagged.values() if row.calls > 0]
