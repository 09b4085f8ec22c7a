"""The shape of a cost breakdown and how it is built: each row's figures (summed, or at other
prices), rows nested two deep under their first dimension with their daily costs, sorted
biggest first (periods in time order), and walks over the nested rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Price, Usage
from llmbench.store.costs.breakdowns import GroupedRow

PERIODS = ("day", "week", "month")

Key = str | int | None
Label = Callable[[str, Key], str]  # (dimension, value) → what a row shows


# Not frozen, for speed (see store.costs.GroupedRow): one is made per grouped row and day.
@dataclass(slots=True)
class Figures:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    saving: float = 0.0
    unpriced: int = 0
    repriced: float | None = None  # the same calls at today's prices, when asked for
    # Since m014: of completion_tokens, reasoning; of prompt_tokens, written to a cache.
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_per_call(self) -> float | None:
        return self.cost / self.calls if self.calls else None


def total_of(parts: Iterable[Figures]) -> Figures:
    """The sum of many figures (what `plus` does pairwise, without a new object per step)."""
    calls = prompt = completion = cached = unpriced = reasoning = written = 0
    cost = saving = 0.0
    repriced: float | None = None
    for part in parts:
        calls += part.calls
        prompt += part.prompt_tokens
        completion += part.completion_tokens
        cached += part.cached_tokens
        cost += part.cost
        saving += part.saving
        unpriced += part.unpriced
        reasoning += part.reasoning_tokens
        written += part.cache_write_tokens
        if part.repriced is not None:
            repriced = (repriced or 0.0) + part.repriced
    return Figures(
        calls, prompt, completion, cached, cost, saving, unpriced, repriced, reasoning, written
    )


# One grouped row as read: its keys (one per dimension), its UTC day and its figures.
Entry = tuple[tuple[Key, ...], str, Figures]


@dataclass(frozen=True)
class BreakdownRow:
    label: str  # as shown: "(untagged)" for calls without the tag
    value: Key  # what a filter on this row's dimension compares (None: untagged)
    figures: Figures
    share: float | None  # of the whole window's cost
    daily: tuple[float, ...]  # cost on each of Breakdown.spark_days
    children: tuple[BreakdownRow, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    by: tuple[str, ...]
    since: str
    until: str
    filters: Mapping[str, Key]
    total: Figures
    rows: tuple[BreakdownRow, ...]
    spark_days: tuple[str, ...]
    total_daily: tuple[float, ...] = field(default=())


def figures_of(row: GroupedRow, price: Price | None, reprice: bool) -> Figures:
    repriced: float | None = None
    if reprice and price is not None:
        repriced = cost_of(
            Usage(
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                cached_tokens=row.cached_tokens,
                reasoning_tokens=row.reasoning_tokens,
                cache_write_tokens=row.cache_write_tokens,
            ),
            price,
        )
    return Figures(
        row.calls,
        row.prompt_tokens,
        row.completion_tokens,
        row.cached_tokens,
        row.cost,
        row.saving,
        row.unpriced,
        repriced,
        row.reasoning_tokens,
        row.cache_write_tokens,
    )


def _sort_key(dimension: str) -> Callable[[BreakdownRow], tuple[object, ...]]:
    if dimension in PERIODS:
        return lambda row: (row.value is None, str(row.value))
    return lambda row: (-row.figures.cost, row.value is None, row.label)


def nest(
    entries: Sequence[Entry],
    by: Sequence[str],
    depth: int,
    label: Label,
    days: tuple[str, ...],
    grand: float,
) -> tuple[BreakdownRow, ...]:
    index_of_day = {day: index for index, day in enumerate(days)}
    groups: dict[Key, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry[0][depth], []).append(entry)
    rows = []
    for value, members in groups.items():
        total = total_of(figures for _keys, _day, figures in members)
        daily = [0.0] * len(days)
        for _keys, day, figures in members:
            if day in index_of_day:
                daily[index_of_day[day]] += figures.cost
        children = nest(members, by, depth + 1, label, days, grand) if depth + 1 < len(by) else ()
        rows.append(
            BreakdownRow(
                label=label(by[depth], value),
                value=value,
                figures=total,
                share=total.cost / grand if grand else None,
                daily=tuple(daily),
                children=children,
            )
        )
    return tuple(sorted(rows, key=_sort_key(by[depth])))


def walk(
    rows: Iterable[BreakdownRow], parent: tuple[Key, ...] = ()
) -> Iterable[tuple[tuple[Key, ...], BreakdownRow]]:
    for row in rows:
        yield (*parent, row.value), row
        yield from walk(row.children, (*parent, row.value))


def with_sparks(
    rows: tuple[BreakdownRow, ...],
    sparks: Mapping[tuple[Key, ...], tuple[float, ...]],
    days: int,
    parent: tuple[Key, ...] = (),
) -> tuple[BreakdownRow, ...]:
    return tuple(
        replace(
            row,
            daily=sparks.get((*parent, row.value), (0.0,) * days),
            children=with_sparks(row.children, sparks, days, (*parent, row.value)),
        )
        for row in rows
    )


def rows_flat(data: Breakdown) -> list[tuple[tuple[str, ...], BreakdownRow]]:
    """Every row with its labels from the top, parents before their children."""
    flat: list[tuple[tuple[str, ...], BreakdownRow]] = []

    def visit(rows: Iterable[BreakdownRow], labels: tuple[str, ...]) -> None:
        for row in rows:
            flat.append(((*labels, row.label), row))
            visit(row.children, (*labels, row.label))

    visit(data.rows, ())
    return flat


def rows_at(rows: Iterable[BreakdownRow], depth: int) -> Iterable[BreakdownRow]:
    """The rows `depth` levels down (0: the top rows)."""
    for row in rows:
        if depth == 0:
            yield row
        else:
            yield from rows_at(row.children, depth - 1)
