"""What each TUI pane shows, read in one call from the caller's thread.

The TUI calls these from thread workers; each uses that thread's own connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from llmbench.store import views
from llmbench.store.db import Store
from llmbench.store.views import (
    CallRow,
    CostShare,
    CostTotals,
    MatrixCell,
    QueueItem,
    QueueRow,
    RunRow,
    WindowStats,
)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- Compare ---------------------------------------------------------------------------------


def runs_overview(store: Store) -> list[RunRow]:
    return views.run_rows(store.read())


def run_matrix(store: Store, run_id: int) -> list[MatrixCell]:
    return views.run_matrix(store.read(), run_id)


# -- Grade -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingQueue:
    reviewer: str
    rubrics: list[QueueRow]

    @property
    def remaining(self) -> int:
        return sum(row.remaining for row in self.rubrics)


def grading_queue(store: Store, reviewer: str) -> GradingQueue:
    return GradingQueue(reviewer, views.grading_queue(store.read(), reviewer))


def next_to_grade(store: Store, rubric_id: int, reviewer: str) -> QueueItem | None:
    return views.next_ungraded(store.read(), rubric_id, reviewer)


# -- Costs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostSummary:
    days: int
    since: str
    until: str
    totals: CostTotals
    top_models: list[CostShare]
    top_features: list[CostShare]
    daily: list[tuple[str, float]]  # every day of the window, oldest first, zero if idle

    def share(self, part: CostShare) -> float | None:
        return part.cost / self.totals.cost if self.totals.cost else None


def cost_summary(
    store: Store, days: int = 30, *, now: datetime | None = None, top: int = 6
) -> CostSummary:
    """Totals, biggest models and features, and cost per day over the last `days` UTC days
    (today included)."""
    end = _now(now)
    first_day = (end - timedelta(days=days - 1)).date()
    since = views.to_iso(datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC))
    until = views.to_iso(end)
    db = store.read()
    by_day = views.cost_by_day(db, since, until)
    daily = [
        (day, by_day.get(day, 0.0))
        for day in ((first_day + timedelta(days=offset)).isoformat() for offset in range(days))
    ]
    return CostSummary(
        days=days,
        since=since,
        until=until,
        totals=views.cost_totals(db, since, until),
        top_models=views.cost_by(db, "model", since, until, top),
        top_features=views.cost_by(db, "feature", since, until, top),
        daily=daily,
    )


# -- Audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestCalls:
    total: int
    rows: list[CallRow]


def latest_calls(store: Store, limit: int = 100) -> LatestCalls:
    db = store.read()
    return LatestCalls(total=views.call_count(db), rows=views.latest_calls(db, limit))


# -- Monitor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    hours: int
    stats: WindowStats

    def rate(self, part: int) -> float | None:
        return part / self.stats.calls if self.stats.calls else None

    @property
    def cost_per_hour(self) -> float:
        return self.stats.cost / self.hours


@dataclass(frozen=True)
class MonitorHeadline:
    recent: Window
    baseline: Window
    hourly_calls: list[tuple[str, int]]  # every hour of the baseline window, oldest first


def monitor_headline(
    store: Store, hours: int = 24, *, baseline_days: int = 7, now: datetime | None = None
) -> MonitorHeadline:
    """The last `hours` next to the last `baseline_days`, and calls per hour over the latter."""
    end = _now(now)
    until = views.to_iso(end)
    db = store.read()
    baseline_hours = baseline_days * 24
    recent = Window(
        hours, views.window_stats(db, views.to_iso(end - timedelta(hours=hours)), until)
    )
    baseline_start = end - timedelta(hours=baseline_hours)
    baseline = Window(baseline_hours, views.window_stats(db, views.to_iso(baseline_start), until))
    by_hour = views.calls_by_hour(db, views.to_iso(baseline_start), until)
    first_hour = baseline_start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hourly = [
        (hour, by_hour.get(hour, 0))
        for hour in (
            (first_hour + timedelta(hours=offset)).strftime("%Y-%m-%dT%H")
            for offset in range(baseline_hours + 1)
        )
    ]
    return MonitorHeadline(recent=recent, baseline=baseline, hourly_calls=hourly)
