"""Cost sums over a window, read from whole days where possible and from `calls` only for the
window's partial first and last days.

Breakdowns whose dimensions a daily rollup table holds (every F5 view, budgets, the CLI's usual
filters) read its whole days from that table, kept exact by triggers on `calls`. Any other
grouping (a CLI filter the rollups do not cover) keeps its daily sums in memory between reads:

The audit log only grows at the end (ids ascend with every insert, imports included) and only
loses its oldest calls (a purge raises the first id). So the sums of whole UTC days, once read,
stay right as long as the first id is the same; a later read adds the calls with higher ids
and reads the window's two partial days (its first and its last) directly. The first read of
a grouping still reads its whole window.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from llmbench.services.costs import tagged_sums
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.costs.breakdowns import GroupedRow
from llmbench.store.db import Store

if TYPE_CHECKING:
    from llmbench.store.db import Database

Key = str | int | None


@dataclass
class _Sums:
    first_day: str  # whole days from this one on are held ('YYYY-MM-DD')
    first_id: int
    last_id: int
    rows: dict[tuple[tuple[Key, ...], str], GroupedRow] = field(default_factory=dict)

    def add(self, row: GroupedRow) -> None:
        if row.day < self.first_day:
            return
        key = (row.keys, row.day)
        held = self.rows.get(key)
        self.rows[key] = (
            row
            if held is None
            else replace(
                held,
                calls=held.calls + row.calls,
                prompt_tokens=held.prompt_tokens + row.prompt_tokens,
                completion_tokens=held.completion_tokens + row.completion_tokens,
                cached_tokens=held.cached_tokens + row.cached_tokens,
                cost=held.cost + row.cost,
                saving=held.saving + row.saving,
                unpriced=held.unpriced + row.unpriced,
                reasoning_tokens=held.reasoning_tokens + row.reasoning_tokens,
                cache_write_tokens=held.cache_write_tokens + row.cache_write_tokens,
            )
        )


_stores: weakref.WeakKeyDictionary[Store, dict[tuple[object, ...], _Sums]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _iso_day(day: str) -> str:
    return f"{day}T00:00:00.000Z"


def _next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


def _previous_day(day: str) -> str:
    return (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()


def _seconds(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def _held(
    store: Store, columns: Sequence[str], filters: Mapping[str, Key], first_day: str
) -> _Sums:
    """The sums for this grouping, brought up to the log's last call (read on a first use)."""
    db = store.read()
    key = (tuple(columns), tuple(sorted(filters.items(), key=lambda item: item[0])))
    first_id, last_id = costs_repo.id_bounds(db)
    held = _stores.setdefault(store, {}).get(key)
    if held is None or held.first_id != first_id or held.first_day > first_day:
        held = _Sums(first_day, first_id, last_id)
        for row in costs_repo.grouped(
            db, columns, _iso_day(first_day), None, filters, ids=(0, last_id)
        ):
            held.add(row)
        _stores[store][key] = held
    elif last_id > held.last_id:
        for row in costs_repo.grouped(
            db, columns, _iso_day(held.first_day), None, filters,
            ids=(held.last_id, last_id), by_time=False,
        ):  # fmt: skip
            held.add(row)
        held.last_id = last_id
    return held


def _negated(row: GroupedRow) -> GroupedRow:
    return replace(
        row,
        calls=-row.calls,
        prompt_tokens=-row.prompt_tokens,
        completion_tokens=-row.completion_tokens,
        cached_tokens=-row.cached_tokens,
        cost=-row.cost,
        saving=-row.saving,
        unpriced=-row.unpriced,
        reasoning_tokens=-row.reasoning_tokens,
        cache_write_tokens=-row.cache_write_tokens,
    )


_HALF_DAY_S = 43_200
Span = tuple[str, str, int]  # [start, end) of calls to add (+1) or take away (-1)


def _first_edge(since: str, first_day: str) -> tuple[bool, Span | None]:
    """Whether the window's first day is read whole from the rollup, and the span of calls
    that corrects it to start at `since` (the smaller half of the day)."""
    midnight = _iso_day(first_day)
    if since == midnight:
        return True, None
    if _seconds(since) - _seconds(midnight) <= _HALF_DAY_S:
        return True, (midnight, since, -1)
    return False, (since, _iso_day(_next_day(first_day)), 1)


def _last_edge(db: Database, until: str, last_day: str) -> tuple[bool, Span | None]:
    """The same for the window's last day, ending at `until`. When no call is later than
    `until` (the window ends now) the whole day is the window's part of it."""
    midnight, next_midnight = _iso_day(last_day), _iso_day(_next_day(last_day))
    if until == next_midnight or costs_repo.latest_ts(db) < until:
        return True, None
    if _seconds(until) - _seconds(midnight) >= _HALF_DAY_S:
        return True, (until, next_midnight, -1)
    return False, (midnight, until, 1)


def _from_rollups(
    store: Store,
    columns: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key],
    first_day: str,
    last_day: str,
) -> list[GroupedRow]:
    """Whole days from the daily rollup, each partial edge day corrected by its smaller half
    read from `calls`, in one read transaction so a call written meanwhile is counted in both
    or neither."""
    db = store.read()
    net = _Sums("", 0, 0)
    with costs_repo.snapshot(db):
        first_whole, first_span = _first_edge(since, first_day)
        last_whole, last_span = _last_edge(db, until, last_day)
        low = first_day if first_whole else _next_day(first_day)
        high = last_day if last_whole else _previous_day(last_day)
        if low <= high:
            # One row per keys and day already; only the edges' rows need adding up.
            net.rows = {
                (row.keys, row.day): row
                for row in costs_repo.rolled_up(db, columns, low, high, filters)
            }
        for span in (first_span, last_span):
            if span is not None:
                start, end, sign = span
                for row in costs_repo.grouped(db, columns, start, end, filters):
                    net.add(row if sign > 0 else _negated(row))
    return [row for row in net.rows.values() if row.calls]


def grouped(
    store: Store,
    columns: Sequence[str],
    since: str,
    until: str,
    filters: Mapping[str, Key] | None = None,
) -> list[GroupedRow]:
    """What `store.costs.grouped` returns for the window, from daily rollups or held day sums
    where it can.

    The window's first day is partial: the smaller of its two parts is read directly (the part
    inside the window added, or the part before it taken from the held day). Its last day is
    held whole when no call is later than the window's end (the usual case: the window ends
    now), else read directly."""
    filters = dict(filters or {})
    sparse = tagged_sums.sparse_dimension(columns, filters)
    if sparse is not None:
        found = tagged_sums.grouped(store, sparse, columns, since, until, filters, grouped)
        if found is not None:
            return found
    db = store.read()
    first_day, last_day = since[:10], until[:10]
    if until == _iso_day(last_day):
        last_day = (datetime.fromisoformat(last_day) - timedelta(days=1)).date().isoformat()
    if first_day >= last_day:
        return costs_repo.grouped(db, columns, since, until, filters)
    if costs_repo.rollup_table(columns, filters) is not None:
        return _from_rollups(store, columns, since, until, filters, first_day, last_day)
    with _lock:
        held = _held(store, columns, filters, first_day)
        bound = (0, held.last_id)
        wanted = {first_day, last_day}
        found = [row for (_, day), row in held.rows.items() if first_day < day < last_day]
        edges = [row for (_, day), row in held.rows.items() if day in wanted]
    keep_first = since == _iso_day(first_day) or (
        # The held day, less what lies before the window, when that is the smaller part.
        _seconds(since) - _seconds(_iso_day(first_day)) <= 43_200
    )
    keep_last = until == _iso_day(_next_day(last_day)) or costs_repo.latest_ts(db) < until
    found += [
        row
        for row in edges
        if (row.day != first_day or keep_first) and (row.day != last_day or keep_last)
    ]
    if since != _iso_day(first_day):
        if keep_first:
            before = costs_repo.grouped(db, columns, _iso_day(first_day), since, filters, ids=bound)
            found += [_negated(row) for row in before]
        else:
            start_of_next = _iso_day(_next_day(first_day))
            found += costs_repo.grouped(db, columns, since, start_of_next, filters, ids=bound)
    if not keep_last:
        found += costs_repo.grouped(db, columns, _iso_day(last_day), until, filters, ids=bound)
    # Net the parts: a group whose calls all lay before the window leaves nothing behind.
    net = _Sums("", 0, 0)
    for row in found:
        net.add(row)
    return [row for row in net.rows.values() if row.calls]


def forget(store: Store) -> None:
    """Drop what is held for `store` (benchmarks measure a first read with it)."""
    with _lock:
        _stores.pop(store, None)
