"""Trends for F5: daily cost stacked by model or feature, tokens per call, and where this
month's spend is heading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from llmbench.services.costs import breakdowns as costs
from llmbench.store.costs import trends as costs_repo
from llmbench.store.costs.trends import TOKEN_EDGES
from llmbench.store.db import Store
from llmbench.store.views import to_iso

STACK_SERIES = 6  # the biggest few; the rest is one "other" series
PACE_DAYS = 7


@dataclass(frozen=True)
class Projection:
    month: str  # 'YYYY-MM'
    month_to_date: float
    daily_pace: float  # mean spend of the last PACE_DAYS whole days
    days_left: float
    projected: float


@dataclass(frozen=True)
class Trends:
    stacked_by: str
    days: tuple[str, ...]
    series: list[tuple[str, tuple[float, ...]]]  # biggest first, "other" last
    prompt_tokens: list[tuple[str, int]]  # ("256–511", calls) per power-of-two bucket
    completion_tokens: list[tuple[str, int]]
    projection: Projection


def _short(tokens: int) -> str:
    return f"{tokens // 1024}k" if tokens >= 1024 else str(tokens)


def _bucket_label(index: int) -> str:
    """'256–512' for the bucket [256, 512) tokens."""
    if index < 0:
        return "0"
    if index + 1 >= len(TOKEN_EDGES):
        return f"{_short(TOKEN_EDGES[index])}+"
    return f"{_short(TOKEN_EDGES[index])}–{_short(TOKEN_EDGES[index + 1])}"


def _histogram(counts: dict[int, int]) -> list[tuple[str, int]]:
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [(_bucket_label(i), counts.get(i, 0)) for i in range(first, last + 1)]


def projection(store: Store, now: datetime) -> Projection:
    """Month to date plus the last week's daily pace over the days left in the month."""
    now = now.astimezone(UTC)
    month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
    following = date(now.year + now.month // 12, now.month % 12 + 1, 1)
    month_end = datetime(following.year, following.month, 1, tzinfo=UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    pace_start = today - timedelta(days=PACE_DAYS)
    db = store.read()
    by_day = costs_repo.cost_by_day(db, to_iso(min(month_start, pace_start)), to_iso(now))
    month_to_date = sum(
        cost for day, cost in by_day.items() if day >= month_start.date().isoformat()
    )
    pace_days = [(pace_start + timedelta(days=n)).date().isoformat() for n in range(PACE_DAYS)]
    pace = sum(by_day.get(day, 0.0) for day in pace_days) / PACE_DAYS
    days_left = (month_end - now).total_seconds() / 86_400
    return Projection(
        month=now.strftime("%Y-%m"),
        month_to_date=month_to_date,
        daily_pace=pace,
        days_left=days_left,
        projected=month_to_date + pace * days_left,
    )


def trends(store: Store, now: datetime, stacked_by: str = "model", window: str = "30d") -> Trends:
    since, until = costs.window(window, None, now)
    data = costs.breakdown(store, [stacked_by], since, until)
    top = [row for row in data.rows if row.value is not None][:STACK_SERIES]
    series = [(row.label, row.daily) for row in top]
    rest = [row for row in data.rows if row not in top]
    if rest:
        other = tuple(sum(row.daily[i] for row in rest) for i in range(len(data.spark_days)))
        series.append(("other", other))
    prompt: dict[int, int] = {}
    completion: dict[int, int] = {}
    for prompt_bucket, completion_bucket, calls in costs_repo.token_buckets(
        store.read(), since, until
    ):
        prompt[prompt_bucket] = prompt.get(prompt_bucket, 0) + calls
        completion[completion_bucket] = completion.get(completion_bucket, 0) + calls
    return Trends(
        stacked_by=stacked_by,
        days=data.spark_days,
        series=series,
        prompt_tokens=_histogram(prompt),
        completion_tokens=_histogram(completion),
        projection=projection(store, now),
    )
