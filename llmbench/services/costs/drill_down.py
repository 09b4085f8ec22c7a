"""From a row of a cost breakdown to the calls behind it: the F6 query (in the audit browser's
query language) for the row's dimension values within the breakdown's window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from llmbench.services.costs.breakdown_rows import PERIODS, Breakdown, BreakdownRow, Key


def _period_bounds(dimension: str, value: str) -> tuple[str, str]:
    """The first and last day (inclusive) of a day, ISO week or month label."""
    if dimension == "day":
        return value, value
    if dimension == "week":
        year, week = value.split("-W")
        first = date.fromisocalendar(int(year), int(week), 1)
        return first.isoformat(), (first + timedelta(days=6)).isoformat()
    year, month = (int(part) for part in value.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return f"{value}-01", (following - timedelta(days=1)).isoformat()


_AUDIT_KEYS = {
    "model": "model",
    "provider": "provider",
    "feature": "feature",
    "team": "team",
    "customer": "customer",
    "task_type": "task",
    "user": "user",
    "conversation": "conversation",
}


@dataclass(frozen=True)
class DrillDown:
    query: str  # in the F6 query bar's language
    dropped: tuple[str, ...]  # dimensions F6 cannot filter on (untagged rows)


def audit_query_for(
    data: Breakdown, path: Sequence[BreakdownRow], filters: Mapping[str, Key] | None = None
) -> DrillDown:
    """The F6 query that lists the calls behind a row: its dimension values (and its parent's)
    within the breakdown's window."""
    terms: list[str] = []
    dropped: list[str] = []
    since, until = data.since[:19] + "Z", data.until[:19] + "Z"
    chosen = {**dict(filters or data.filters)}
    for dimension, row in zip(data.by, path, strict=False):
        chosen[dimension] = row.value if dimension != "version" else row.label
    for dimension, value in chosen.items():
        if value is None or value == "":
            dropped.append(dimension)
        elif dimension in PERIODS:
            first, last = _period_bounds(dimension, str(value))
            since = max(since, first + "T00:00:00Z")
            until = min(until, _next_day(last) + "T00:00:00Z")
        elif dimension == "prompt":
            terms.append(f'version:"{value}"')
        elif dimension == "version":
            name, _, number = str(value).rpartition(" v")
            terms.append(f'version:"{name}@{number}"' if name else f'version:"{value}"')
        else:
            terms.append(f'{_AUDIT_KEYS[dimension]}:"{value}"')
    terms += [f"since:{since}", f"until:{until}"]
    return DrillDown(" ".join(terms), tuple(dropped))


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
