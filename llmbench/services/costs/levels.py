"""F5's drill-down: a breakdown's levels, from a view (feature → model) to one of its rows broken
down by the next dimension (that feature by model), down to one feature × model by day.

A level is a grouping and the rows chosen on the way down, which become `--where` filters: the
level's figures are those of `llmbench costs --by <by> --where <dimension>=<value> …` for the
same window, read by the same `breakdowns.breakdown`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmbench.services.costs.breakdown_rows import BreakdownRow, Key
from llmbench.store.costs.breakdowns import FILTER_COLUMNS

LAST_LEVEL = ("day",)
"""Where every drill-down ends: the chosen rows' cost day by day."""
SEPARATOR = " › "


@dataclass(frozen=True)
class Chosen:
    """A row picked on the way down: its dimension, the value filters compare, its label."""

    dimension: str
    value: Key
    label: str


@dataclass(frozen=True)
class Level:
    by: tuple[str, ...]
    chosen: tuple[Chosen, ...] = ()

    @property
    def filters(self) -> Mapping[str, Key]:
        return {choice.dimension: choice.value for choice in self.chosen}

    @property
    def depth(self) -> int:
        return len(self.chosen)


def top_level(view: Sequence[str]) -> Level:
    return Level(tuple(view))


def deeper(level: Level, view: Sequence[str], path: Sequence[BreakdownRow]) -> Level | None:
    """The level below the row at `path` (its parent first) of `level`'s breakdown: that row
    by the view's next dimension not chosen yet, or by day once every one is. None when the row
    cannot be broken down further (a day, week or month: what is left are its calls)."""
    dimensions = level.by[: len(path)]
    if not path or any(dimension not in FILTER_COLUMNS for dimension in dimensions):
        return None
    chosen = level.chosen + tuple(
        Chosen(dimension, row.value, row.label)
        for dimension, row in zip(dimensions, path, strict=True)
    )
    taken = {choice.dimension for choice in chosen}
    remaining = [dimension for dimension in view if dimension not in taken]
    return Level((remaining[0],) if remaining else LAST_LEVEL, chosen)


def breadcrumb(level: Level) -> str:
    """Where a level is: `feature search-answer › model gpt-4o › by day`."""
    steps = [f"{choice.dimension.replace('_', ' ')} {choice.label}" for choice in level.chosen]
    steps.append("by " + " → ".join(dimension.replace("_", " ") for dimension in level.by))
    return SEPARATOR.join(steps)


def matches(text: str, name: str) -> bool:
    """Whether a row's name contains `text`, ignoring case; an empty text matches every row."""
    wanted = text.strip().casefold()
    return not wanted or wanted in name.casefold()
