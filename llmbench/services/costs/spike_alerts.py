"""Spend spikes as alerts: one incident, one alert.

A runaway shows in many series at once — the global spend, its model, feature, team and
customer, each by the hour and by the day — and hour after hour. Spikes of one series that
touch in time are one run (a child of the incident); runs that touch in time are one incident
(core.costs.spikes.touching_groups). The alert leads with the run that best says what
happened (the global one when the whole bill jumped) and lists every run in its detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from llmbench.core.costs.spikes import touching_groups
from llmbench.store.costs import budgets as costs_repo
from llmbench.store.views import to_iso

if TYPE_CHECKING:
    from llmbench.services.costs.budgets import ScopedSpike
    from llmbench.store.db import Database

CRITICAL_RATIO = 5.0  # a run at five times its usual spend or more is critical
SUGGESTION = (
    "Open the calls (enter in F5's alerts, or F6 with the query above): a loop or retry storm "
    "shows as many similar calls, a long prompt as a few costly ones; cap max_tokens, cache "
    "repeats, or set a budget on this scope."
)


def spike_key(spike: ScopedSpike) -> str:
    """One bucket of one series: the finding an incident's alert stands for."""
    return f"spike:{spike.granularity}:{spike.scope}:{spike.scope_value}:{spike.spike.bucket}"


def usd(value: float) -> str:
    """Dollars as people read them: cents, or four places below a cent (not "$0.00")."""
    return f"${value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"${value:,.4f}"


def _hours(text: str) -> str:
    return text.replace("T", " ") + ":00"


@dataclass(frozen=True)
class SpikeRun:
    """Consecutive spiking buckets of one series (scope, value, hour or day)."""

    spikes: tuple[ScopedSpike, ...]  # in time order

    @property
    def first(self) -> ScopedSpike:
        return self.spikes[0]

    @property
    def label(self) -> str:
        return self.first.label

    @property
    def granularity(self) -> str:
        return self.first.granularity

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.first.span[0], self.spikes[-1].span[1]

    @property
    def cost(self) -> float:
        return sum(found.spike.cost for found in self.spikes)

    @property
    def baseline(self) -> float:
        return sum(found.spike.baseline for found in self.spikes)

    @property
    def excess(self) -> float:
        return self.cost - self.baseline

    @property
    def ratio(self) -> float | None:
        return self.cost / self.baseline if self.baseline > 0 else None

    @property
    def keys(self) -> list[str]:
        return [spike_key(found) for found in self.spikes]

    def when(self) -> str:
        """'in the hour of 2026-11-28 13:00', 'in 4 hours, 2026-11-28 13:00–17:00',
        'on 2026-11-28', 'on 2 days, 2026-11-28 → 2026-11-29'."""
        first, last, count = self.first.spike.bucket, self.spikes[-1].spike.bucket, len(self.spikes)
        if self.granularity == "hour":
            if count == 1:
                return f"in the hour of {_hours(first)}"
            end = self.span[1]
            shown_end = end.strftime("%H:%M") if end.date() == self.span[0].date() else (
                end.strftime("%Y-%m-%d %H:%M")
            )  # fmt: skip
            return f"in {count} hours, {_hours(first)}–{shown_end}"
        return f"on {first}" if count == 1 else f"on {count} days, {first} → {last}"

    def describe(self) -> str:
        ratio = "from nothing" if self.ratio is None else f"{self.ratio:.1f}× its usual"
        return f"{self.label} spent {usd(self.cost)} {self.when()} — {ratio} {usd(self.baseline)}"

    def facts(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "scope": self.first.scope,
            "scope_value": self.first.scope_value,
            "granularity": self.granularity,
            "first": self.first.spike.bucket,
            "last": self.spikes[-1].spike.bucket,
            "buckets": len(self.spikes),
            "cost": self.cost,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "z": max(found.spike.z for found in self.spikes),
            "text": self.describe(),
        }


def spike_runs(spikes: Sequence[ScopedSpike]) -> list[SpikeRun]:
    """Each series' spikes cut into runs of buckets that follow one another."""
    series: dict[tuple[str, str | None, str], list[ScopedSpike]] = {}
    for found in spikes:
        series.setdefault((found.scope, found.scope_value, found.granularity), []).append(found)
    runs = []
    for members in series.values():
        for group in touching_groups([found.span for found in members]):
            runs.append(SpikeRun(tuple(members[index] for index in group)))
    return runs


def incidents(spikes: Sequence[ScopedSpike]) -> list[list[SpikeRun]]:
    """Runs that touch in time, whatever their series, as one incident each (in time order)."""
    runs = spike_runs(spikes)
    return [[runs[index] for index in group] for group in touching_groups([r.span for r in runs])]


def _lead(runs: Sequence[SpikeRun]) -> SpikeRun:
    """The run the alert leads with: hours say more than a day; the global series says the
    whole bill jumped; otherwise the run that spent most above its usual."""
    hourly = [run for run in runs if run.granularity == "hour"] or list(runs)
    return max(hourly, key=lambda run: (run.first.scope == "global", run.excess))


def incident_alert(db: Database, runs: Sequence[SpikeRun]) -> dict[str, Any]:
    """The alert of one incident: its lead run's words, every run as a child, the costliest
    calls and prompts of the lead run's window, and the F6 query that opens them."""
    lead = _lead(runs)
    start, end = lead.span
    since, until = to_iso(start), to_iso(end)
    scope, value = lead.first.scope, lead.first.scope_value
    filters = {} if scope == "global" else {scope: value}
    top = costs_repo.top_calls(db, since, until, filters, limit=5)
    prompts: dict[str, float] = {}
    for call in top:
        if call.prompt:
            prompts[call.prompt] = prompts.get(call.prompt, 0.0) + call.cost
    scope_term = "" if scope == "global" else f'{scope}:"{value}" '
    query = f"{scope_term}since:{since[:19]}Z until:{until[:19]}Z cost>0".replace(
        "task_type:", "task:"
    )
    ordered = sorted(runs, key=lambda run: (run is not lead, -run.excess, run.label))
    others = list(dict.fromkeys(run.label for run in ordered if run.label != lead.label))
    message = lead.describe() + (f"; also {', '.join(others)}" if others else "")
    critical = any(run.ratio is None or run.ratio >= CRITICAL_RATIO for run in runs)
    keys = sorted(key for run in runs for key in run.keys)
    return {
        "kind": "spike",
        "severity": "critical" if critical else "warning",
        "message": message,
        "context": {
            "key": f"incident:{keys[0]}",
            "keys": keys,
            "scope": scope,
            "scope_value": value,
            "granularity": lead.granularity,
            "bucket": lead.first.spike.bucket,
            "since": since,
            "until": until,
            "cost": lead.cost,
            "baseline": lead.baseline,
            "ratio": lead.ratio,
            "children": [run.facts() for run in ordered],
            "top_calls": [
                {"id": c.id, "ts": c.ts, "model": c.model, "prompt": c.prompt, "cost": c.cost}
                for c in top
            ],
            "top_prompts": sorted(prompts, key=prompts.__getitem__, reverse=True),
            "audit_query": query,
            "suggestion": SUGGESTION,
        },
    }


def span_of(granularity: str, bucket: str) -> tuple[datetime, datetime]:
    """A bucket ('YYYY-MM-DDTHH' for an hour, 'YYYY-MM-DD' for a day) as [start, end)."""
    if granularity == "hour":
        start = datetime.strptime(bucket, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        return start, start + timedelta(hours=1)
    start = datetime.strptime(bucket, "%Y-%m-%d").replace(tzinfo=UTC)
    return start, start + timedelta(days=1)
