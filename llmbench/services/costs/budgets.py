"""Budgets per scope and period with alerts at 50 / 80 / 100 %, and spend-spike detection per
scope on hourly and daily spend. Both write into the alerts table the Monitor also uses (kinds
'budget' and 'spike'); an alert names its findings by keys, so a check run twice raises each
once, and the spikes of one incident are one alert (services.costs.spike_alerts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from llmbench.core.costs.spikes import Spike, SpikeSettings, daily_spikes, hourly_spikes
from llmbench.services.costs import window_sums as costs_cache
from llmbench.services.costs.spike_alerts import incident_alert, incidents, span_of
from llmbench.store import alerts as alerts_repo
from llmbench.store.costs import budgets as costs_repo
from llmbench.store.costs.budgets import BUDGET_SCOPES, BudgetRow
from llmbench.store.db import Store
from llmbench.store.views import to_iso

if TYPE_CHECKING:
    from llmbench.store.db import Database

COST_ALERT_KINDS = ("budget", "spike")
PERIODS = ("day", "week", "month")
THRESHOLDS = ((1.0, "critical"), (0.8, "warning"), (0.5, "info"))
SPIKE_SCOPES = ("global", "model", "feature", "team", "customer")
_SCOPE_EXAMPLES = {
    "model": "gpt-4o",
    "feature": "search-answer",
    "team": "support",
    "customer": "acme",
}


def parse_scope(text: str) -> tuple[str, str]:
    """'global', 'feature=search' → (scope, value). Raises ValueError."""
    scope, _, value = text.partition("=")
    scope = scope.strip()
    if scope not in BUDGET_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; use {', '.join(BUDGET_SCOPES)}")
    if scope == "global" and value.strip():
        raise ValueError("global takes no value: it is every call")
    if scope != "global" and not value.strip():
        raise ValueError(f"{scope} needs a value, e.g. {scope}={_SCOPE_EXAMPLES[scope]}")
    return scope, value.strip()


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The UTC day, ISO week (from Monday) or calendar month `now` is in."""
    today = now.astimezone(UTC).date()
    if period == "day":
        first, following = today, today + timedelta(days=1)
    elif period == "week":
        first = today - timedelta(days=today.weekday())
        following = first + timedelta(days=7)
    elif period == "month":
        first = today.replace(day=1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    else:
        raise ValueError(f"unknown period {period!r}; use day, week or month")

    def at(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    return at(first), at(following)


@dataclass(frozen=True)
class BudgetStatus:
    budget: BudgetRow
    period_start: str
    spent: float
    projected: float  # the period's spend if the rest goes at the pace so far

    @property
    def used(self) -> float:
        return self.spent / self.budget.limit_usd

    @property
    def label(self) -> str:
        scope = self.budget.scope
        return scope if scope == "global" else f"{scope}={self.budget.scope_value}"


def parse_limit(text: str) -> float:
    """'100', '$1,250.50' → US dollars per period. Raises ValueError saying what a limit is."""
    cleaned = text.strip().removeprefix("$").replace(",", "").replace("_", "").strip()
    try:
        limit = float(cleaned)
    except ValueError:
        raise ValueError(
            f"the limit {text.strip()!r} is not a number of US dollars, e.g. 100 or 12.50"
            if cleaned
            else "the limit is missing: US dollars per period, e.g. 100"
        ) from None
    _check_limit(limit)
    return limit


def _check_limit(limit_usd: float) -> None:
    if not math.isfinite(limit_usd) or limit_usd <= 0:
        raise ValueError("a budget's limit is above $0")


def set_budget(store: Store, scope_text: str, period: str, limit_usd: float) -> int:
    scope, value = parse_scope(scope_text)
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use day, week or month")
    _check_limit(limit_usd)
    created = to_iso(datetime.now(UTC))
    return store.write(
        lambda db: costs_repo.set_budget(db, scope, value, period, limit_usd, created)
    )


def delete_budget(store: Store, budget_id: int) -> bool:
    return store.write(lambda db: costs_repo.delete_budget(db, budget_id))


def budget_status(store: Store, now: datetime) -> list[BudgetStatus]:
    db = store.read()
    found = []
    for budget in costs_repo.budgets(db):
        start, end = period_bounds(budget.period, now)
        filters = {} if budget.scope == "global" else {budget.scope: budget.scope_value}
        spent = sum(
            row.cost for row in costs_cache.grouped(store, [], to_iso(start), to_iso(now), filters)
        )
        elapsed = max((now - start).total_seconds(), 1.0)
        projected = spent * (end - start).total_seconds() / elapsed
        found.append(BudgetStatus(budget, to_iso(start), spent, projected))
    return found


def _budget_alerts(statuses: Sequence[BudgetStatus]) -> list[dict[str, Any]]:
    raised = []
    for status in statuses:
        for threshold, severity in THRESHOLDS:
            if status.used < threshold:
                continue
            limit = status.budget.limit_usd
            raised.append(
                {
                    "kind": "budget",
                    "severity": severity,
                    "message": (
                        f"{status.label} spent ${status.spent:,.2f} of its {status.budget.period}"
                        f"ly ${limit:,.2f} budget ({status.used:.0%})"
                    ),
                    "context": {
                        "key": f"budget:{status.budget.id}:{status.period_start}:{threshold}",
                        "scope": status.budget.scope,
                        "scope_value": status.budget.scope_value,
                        "period": status.budget.period,
                        "period_start": status.period_start,
                        "spent": status.spent,
                        "limit": limit,
                        "threshold": threshold,
                        "projected": status.projected,
                        "suggestion": (
                            "Open the breakdown (F5) on this scope to see which prompts and "
                            "models drive it; move cheap tasks to a smaller model or raise the "
                            "budget with `llmbench budgets set`."
                        ),
                    },
                }
            )
            break  # only the highest threshold crossed: 100 % supersedes 80 % and 50 %
    return raised


# -- spikes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopedSpike:
    scope: str
    scope_value: str | None
    granularity: str  # 'hour' or 'day'
    spike: Spike

    @property
    def label(self) -> str:
        return self.scope if self.scope == "global" else f"{self.scope}={self.scope_value}"

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The spike's bucket as [start, end)."""
        return span_of(self.granularity, self.spike.bucket)

    @property
    def window(self) -> tuple[str, str]:
        """The spike's bucket as [since, until) in the store's format."""
        start, end = self.span
        return to_iso(start), to_iso(end)


# A spike must matter to the whole bill: add at least a usual hour of all spend (mean over the
# window), or a quarter of a usual day. Sparse scopes otherwise "spike" on one costly call.
HOUR_FLOOR_SHARE = 1.0
DAY_FLOOR_SHARE = 0.25


def find_spikes(
    store: Store,
    now: datetime,
    days: int = 30,
    scopes: Sequence[str] = SPIKE_SCOPES,
    settings: SpikeSettings | None = None,
) -> list[ScopedSpike]:
    """Hourly and daily spikes of every scope's spend over the last `days` whole UTC days and
    today, each bucket judged against the scope's own history before it and big enough to
    matter to the whole bill (HOUR_FLOOR_SHARE, DAY_FLOOR_SHARE)."""
    db = store.read()
    last_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first_day = (last_hour - timedelta(days=days)).replace(hour=0)
    since, until = to_iso(first_day), to_iso(now)
    first_bucket = first_day.strftime("%Y-%m-%dT%H")
    # The current hour and day are unfinished: judge only those that have ended.
    last_bucket = (last_hour - timedelta(hours=1)).strftime("%Y-%m-%dT%H")
    last_day = (last_hour - timedelta(days=1)).date().isoformat()
    found: list[ScopedSpike] = []
    floors = (0.0, 0.0)
    for scope in ("global", *(s for s in scopes if s != "global")):
        rows = costs_repo.hourly_spend(db, since, until, None if scope == "global" else scope)
        hourly: dict[str | None, dict[str, float]] = {}
        for row in rows:
            hourly.setdefault(row.scope, {})[row.hour] = row.cost
        for value, spend in hourly.items():
            if scope != "global" and value is None:
                continue  # untagged calls are no scope of their own
            daily: dict[str, float] = {}
            for hour, cost in spend.items():
                daily[hour[:10]] = daily.get(hour[:10], 0.0) + cost
            if scope == "global":
                total = sum(spend.values())
                floors = (HOUR_FLOOR_SHARE * total / (days * 24), DAY_FLOOR_SHARE * total / days)
            if scope in scopes:
                for spike in hourly_spikes(spend, first_bucket, last_bucket, settings, floors[0]):
                    found.append(ScopedSpike(scope, value, "hour", spike))
                first = first_day.date().isoformat()
                for spike in daily_spikes(daily, first, last_day, settings, floors[1]):
                    found.append(ScopedSpike(scope, value, "day", spike))
    return found


@dataclass(frozen=True)
class CostCheck:
    budgets: int
    spikes: int
    new_alert_ids: list[int]
    incidents: int = 0
    """Spike incidents found (each is one alert, however many buckets and scopes it spans)."""
    grown_alert_ids: list[int] = field(default_factory=list)
    """Open incident alerts that took in newly found spikes."""


def check_costs(
    store: Store, now: datetime, days: int = 30, settings: SpikeSettings | None = None
) -> CostCheck:
    """Raise the budget alerts not raised before and one alert per spike incident not raised
    before; an open incident alert that found more of its spikes grows instead. Returns the new
    alerts' ids (and those that grew)."""
    statuses = budget_status(store, now)
    spikes = find_spikes(store, now, days, settings=settings)
    found = incidents(spikes)
    created = to_iso(now)

    def write(db: Database) -> tuple[list[int], list[int]]:
        known = costs_repo.alert_keys(db, COST_ALERT_KINDS)
        refs = alerts_repo.finding_refs(db, ("spike",))
        ids, grown = [], []
        for alert in _budget_alerts(statuses):
            if alert["context"]["key"] in known:
                continue
            known.add(alert["context"]["key"])
            ids.append(_add(db, alert, created))
        for runs in found:
            alert = incident_alert(db, runs)
            keys = alert["context"]["keys"]
            holders = {refs[key] for key in keys if key in refs}
            if all(key in refs for key in keys):
                continue  # raised before, whole
            still_open = sorted(ref.alert_id for ref in holders if ref.open)
            if still_open:
                alerts_repo.update_alert(
                    db, still_open[0], alert["severity"], alert["message"], alert["context"]
                )
                grown.append(still_open[0])
                continue
            if holders:  # acknowledged, and it went on: a new alert that says so
                alert["context"]["continues"] = sorted(ref.alert_id for ref in holders)
            ids.append(_add(db, alert, created))
        return ids, grown

    ids, grown = store.write(write)
    return CostCheck(len(statuses), len(spikes), ids, len(found), grown)


def _add(db: Database, alert: dict[str, Any], created: str) -> int:
    return alerts_repo.add_alert(
        db, alert["kind"], alert["severity"], alert["message"], alert["context"], created
    )


def cost_alerts(store: Store, limit: int = 200) -> list[alerts_repo.AlertRow]:
    """Budget and spike alerts, open first (the Monitor's drift alerts are in F7)."""
    return [
        alert
        for alert in alerts_repo.list_alerts(store.read(), limit=limit * 4)
        if alert.kind in COST_ALERT_KINDS
    ][:limit]


def ack_alert(store: Store, alert_id: int, by: str) -> bool:
    return store.write(lambda db: alerts_repo.ack_alert(db, alert_id, by))
