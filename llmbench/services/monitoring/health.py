"""The Monitor's use cases: health of a time window per model and overall, quality over time,
drift detection that writes alerts, and acknowledging them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from llmbench.core.monitoring.drift import Drift, DriftSettings, SeriesSpec, detect_drift
from llmbench.core.stats import Histogram, log_histogram, percentile
from llmbench.services.monitoring.alert_text import show_value
from llmbench.services.monitoring.production_quality import (
    ProductionQuality,
    production_drift_series,
    production_quality,
)
from llmbench.store import alerts as alerts_repo
from llmbench.store import monitor as monitor_repo
from llmbench.store.alerts import AlertRow
from llmbench.store.db import Store
from llmbench.store.monitor import CallFacts
from llmbench.store.views import to_iso

if TYPE_CHECKING:
    from llmbench.store.db import Database

ALL_MODELS = "all models"
FAILURES = frozenset({"error", "timeout", "rate_limited"})
SAMPLE_LIMIT = 20_000
QUALITY_DAYS = 30
DRIFT_DAYS = 30
# Enough for a daily p95 per model from hundreds of calls; a month of a million calls checks
# in about a second.
DRIFT_SAMPLE_LIMIT = 60_000
# Days with fewer observations than these are left out of drift series: a p95 of five calls,
# or the pass rate of three checks, is noise rather than a level.
MIN_DAY_CALLS = 20
MIN_DAY_CHECKS = 20
MIN_DAY_FEEDBACK = 10


@dataclass(frozen=True)
class MonitorWindow:
    key: str
    label: str
    hours: int
    bucket_minutes: int


WINDOWS: tuple[MonitorWindow, ...] = (
    MonitorWindow("1h", "1 hour", 1, 2),
    MonitorWindow("24h", "24 hours", 24, 30),
    MonitorWindow("7d", "7 days", 24 * 7, 120),
    MonitorWindow("30d", "30 days", 24 * 30, 360),
)
WINDOWS_BY_KEY = {window.key: window for window in WINDOWS}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- health of a window ----------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """One model's (or all models') figures over the window. Counts are estimates scaled from
    the sample when the window was sampled."""

    name: str
    requests: int
    errors: int
    timeouts: int
    rate_limited: int
    cache_hits: int
    cost: float
    latency: tuple[float | None, float | None, float | None]  # p50, p95, p99 of ok calls
    ttft: tuple[float | None, float | None]  # p50, p95 of ok calls that streamed
    prompt_tokens: tuple[float | None, float | None]  # p50, p95
    completion_tokens: tuple[float | None, float | None]

    def rate(self, part: int) -> float | None:
        return part / self.requests if self.requests else None


class _Group:
    """What one group of sampled calls (a model, or all of them) adds up to; the value lists
    are sorted by `finish` for percentiles."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.cost = 0.0
        self.latencies: list[float] = []
        self.ttfts: list[float] = []
        self.prompt: list[int] = []
        self.completion: list[int] = []

    def merge(self, other: _Group) -> None:
        self.statuses.update(other.statuses)
        self.cost += other.cost
        self.latencies += other.latencies
        self.ttfts += other.ttfts
        self.prompt += other.prompt
        self.completion += other.completion

    def finish(self) -> _Group:
        for values in (self.latencies, self.ttfts, self.prompt, self.completion):
            values.sort()
        return self

    def health(self, name: str, scale: float) -> Health:
        def scaled(n: int) -> int:
            return round(n * scale)

        latencies = self.latencies
        return Health(
            name=name,
            requests=scaled(self.statuses.total()),
            errors=scaled(self.statuses["error"]),
            timeouts=scaled(self.statuses["timeout"]),
            rate_limited=scaled(self.statuses["rate_limited"]),
            cache_hits=scaled(self.statuses["cache_hit"]),
            cost=self.cost * scale,
            latency=(
                percentile(latencies, 0.50),
                percentile(latencies, 0.95),
                percentile(latencies, 0.99),
            ),
            ttft=(percentile(self.ttfts, 0.50), percentile(self.ttfts, 0.95)),
            prompt_tokens=(percentile(self.prompt, 0.50), percentile(self.prompt, 0.95)),
            completion_tokens=(
                percentile(self.completion, 0.50),
                percentile(self.completion, 0.95),
            ),
        )


def _groups(rows: Iterable[CallFacts]) -> tuple[_Group, dict[str, _Group]]:
    """One pass over the rows (inlined: this loop is most of the pane's read time): a group per
    model, and all of them merged."""
    by_model: dict[str, _Group] = {}
    for _ts, model, status, latency, ttft, prompt, completion, cost, _epoch in rows:
        group = by_model.get(model)
        if group is None:
            group = by_model[model] = _Group()
        group.statuses[status] += 1
        if cost:
            group.cost += cost
        if status == "ok":
            if latency is not None:
                group.latencies.append(latency)
            if ttft is not None:
                group.ttfts.append(ttft)
            group.prompt.append(prompt)
            group.completion.append(completion)
    overall = _Group()
    for group in by_model.values():
        overall.merge(group)
    return overall.finish(), {model: group.finish() for model, group in by_model.items()}


@dataclass(frozen=True)
class Timeline:
    """The window cut into equal buckets, oldest first, for sparklines."""

    starts: list[str]
    requests: list[float]
    errors: list[float]  # error + timeout + rate_limited
    p95_ms: list[float]  # 0 where a bucket had no ok call
    cost: list[float]


def _bucket_starts(since: datetime, window: MonitorWindow) -> list[datetime]:
    count = window.hours * 60 // window.bucket_minutes
    step = timedelta(minutes=window.bucket_minutes)
    return [since + step * index for index in range(count)]


def _timeline(
    rows: Sequence[CallFacts], since: datetime, window: MonitorWindow, scale: float
) -> Timeline:
    starts = _bucket_starts(since, window)
    size_s = window.bucket_minutes * 60
    last = len(starts) - 1
    requests = [0] * len(starts)
    errors = [0] * len(starts)
    cost = [0.0] * len(starts)
    latencies: list[list[float]] = [[] for _ in starts]
    origin = int(since.timestamp())
    for _ts, _model, status, latency, _ttft, _p, _c, call_cost, epoch in rows:
        index = min(max((epoch - origin) // size_s, 0), last)
        requests[index] += 1
        if call_cost:
            cost[index] += call_cost
        if status == "ok":
            if latency is not None:
                latencies[index].append(latency)
        elif status in FAILURES:
            errors[index] += 1
    return Timeline(
        starts=[to_iso(start) for start in starts],
        requests=[n * scale for n in requests],
        errors=[n * scale for n in errors],
        p95_ms=[percentile(sorted(values), 0.95) or 0.0 for values in latencies],
        cost=[total * scale for total in cost],
    )


@dataclass(frozen=True)
class QualityDay:
    day: str
    checks: int
    pass_rate: float | None
    thumbs: int
    thumbs_up: float | None
    ratings: int
    rating: float | None


@dataclass(frozen=True)
class MonitorReport:
    window: MonitorWindow
    since: str
    until: str
    total: int
    sampled: int
    exact: bool
    any_calls: bool
    """Whether the log holds any call at all (a quiet window is not an empty log)."""
    overall: Health
    models: list[Health]
    timeline: Timeline
    prompt_histogram: Histogram
    completion_histogram: Histogram
    quality: list[QualityDay]
    production: ProductionQuality
    """The judge's scores on production samples and each prompt's answer consistency."""
    alerts: list[AlertRow]

    @property
    def cost_per_hour(self) -> float:
        return self.overall.cost / self.window.hours


def _quality(store: Store, end: datetime) -> list[QualityDay]:
    db = store.read()
    since, until = to_iso(end - timedelta(days=QUALITY_DAYS)), to_iso(end)
    checks = {row.day: row for row in monitor_repo.daily_checks(db, since, until)}
    feedback = {(row.day, row.kind): row for row in monitor_repo.daily_feedback(db, since, until)}
    days = sorted(set(checks) | {day for day, _kind in feedback})
    quality = []
    for day in days:
        check = checks.get(day)
        thumbs = feedback.get((day, "thumbs"))
        rating = feedback.get((day, "rating"))
        quality.append(
            QualityDay(
                day=day,
                checks=check.checks if check else 0,
                pass_rate=check.passed / check.checks if check and check.checks else None,
                thumbs=thumbs.count if thumbs else 0,
                thumbs_up=thumbs.positive / thumbs.count if thumbs and thumbs.count else None,
                ratings=rating.count if rating else 0,
                rating=rating.mean if rating else None,
            )
        )
    return quality


def monitor_report(
    store: Store,
    window: MonitorWindow | str = "24h",
    *,
    now: datetime | None = None,
    sample_limit: int | None = None,
) -> MonitorReport:
    """Everything the Monitor pane shows for one window ending at `now`, from every call of
    the window or an even sample of about `sample_limit` (default SAMPLE_LIMIT)."""
    sample_limit = SAMPLE_LIMIT if sample_limit is None else sample_limit
    chosen = WINDOWS_BY_KEY[window] if isinstance(window, str) else window
    end = _now(now)
    start = end - timedelta(hours=chosen.hours)
    since, until = to_iso(start), to_iso(end)
    db = store.read()
    calls = monitor_repo.window_calls(db, since, until, sample_limit)
    rows = calls.rows
    scale = calls.total / len(rows) if rows else 1.0
    overall, by_model = _groups(rows)
    models = sorted(
        (group.health(model, scale) for model, group in by_model.items()),
        key=lambda health: (-health.requests, health.name),
    )
    return MonitorReport(
        window=chosen,
        since=since,
        until=until,
        total=calls.total,
        sampled=len(rows),
        # A "sample" that read every call of the window is no sample: say so.
        exact=calls.exact or len(rows) >= calls.total,
        any_calls=calls.total > 0 or monitor_repo.has_calls(db),
        overall=overall.health(ALL_MODELS, scale),
        models=models,
        timeline=_timeline(rows, start, chosen, scale),
        prompt_histogram=log_histogram(overall.prompt),
        completion_histogram=log_histogram(overall.completion),
        quality=_quality(store, end),
        production=production_quality(db, end, QUALITY_DAYS),
        alerts=alerts_repo.list_alerts(db),
    )


# -- drift -----------------------------------------------------------------------------------

LATENCY_NEXT_STEP = (
    "Open F6 filtered to {subject} and latency above the baseline p95: look for one provider, "
    "long prompts or retries; check the provider's status page; consider a fallback model."
)
QUALITY_NEXT_STEP = (
    "Open F6 on calls since {since}, grade a sample in F4, and compare the prompt version "
    "serving since then against the one before it in F3."
)


def _daily_p95(rows: Iterable[CallFacts], column: int) -> list[tuple[str, float]]:
    by_day: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        value = row[column]
        if row[2] == "ok" and value is not None:
            by_day[row[0][:10]].append(float(value))
    return [
        (day, percentile(sorted(values), 0.95) or 0.0)
        for day, values in sorted(by_day.items())
        if len(values) >= MIN_DAY_CALLS
    ]


def drift_series(
    store: Store,
    *,
    now: datetime | None = None,
    days: int = DRIFT_DAYS,
    sample_limit: int,
    both_ways: bool = False,
) -> list[tuple[SeriesSpec, list[tuple[str, float]]]]:
    """Every daily series drift detection watches: latency p95 overall and per model, time to
    first token p95, check pass rate, thumbs-up rate, mean rating, the judge's score on
    production samples and each prompt's share of diverging answers to similar queries. Each
    is watched on its harmful side only (latency and divergence up, quality down) unless
    `both_ways`."""
    end = _now(now)
    since, until = to_iso(end - timedelta(days=days)), to_iso(end)
    db = store.read()
    rows = monitor_repo.window_calls(db, since, until, sample_limit).rows
    series: list[tuple[SeriesSpec, list[tuple[str, float]]]] = []

    def latency_spec(key: str, label: str, subject: str) -> SeriesSpec:
        return SeriesSpec(key, label, False, "ms", LATENCY_NEXT_STEP.replace("{subject}", subject))

    series.append((latency_spec("latency_p95", "Latency p95", "all models"), _daily_p95(rows, 3)))
    series.append((latency_spec("ttft_p95", "Time to first token p95", "all models"),
                   _daily_p95(rows, 4)))  # fmt: skip
    by_model: dict[str, list[CallFacts]] = defaultdict(list)
    for row in rows:
        by_model[row[1]].append(row)
    for model in sorted(by_model):
        spec = latency_spec(f"latency_p95:{model}", f"{model} latency p95", f"model {model}")
        series.append((spec, _daily_p95(by_model[model], 3)))
    checks = monitor_repo.daily_checks(db, since, until)
    series.append(
        (
            SeriesSpec("check_pass_rate", "Check pass rate", True, "ratio", QUALITY_NEXT_STEP),
            [(row.day, row.passed / row.checks) for row in checks if row.checks >= MIN_DAY_CHECKS],
        )
    )
    feedback = monitor_repo.daily_feedback(db, since, until)
    thumbs = [row for row in feedback if row.kind == "thumbs" and row.count >= MIN_DAY_FEEDBACK]
    ratings = [row for row in feedback if row.kind == "rating" and row.count >= MIN_DAY_FEEDBACK]
    series.append(
        (
            SeriesSpec("thumbs_up_rate", "Thumbs-up rate", True, "ratio", QUALITY_NEXT_STEP),
            [(row.day, row.positive / row.count) for row in thumbs],
        )
    )
    series.append(
        (
            SeriesSpec("rating_mean", "Mean user rating", True, "", QUALITY_NEXT_STEP),
            [(row.day, float(row.mean or 0.0)) for row in ratings],
        )
    )
    series += production_drift_series(db, since, until)
    return [(replace(spec, both_ways=both_ways), points) for spec, points in series]


def _alert_fields(drift: Drift) -> tuple[str, str, dict[str, object]]:
    # A shift to the good side (only watched when asked for) informs; it never warns.
    severity = ("critical" if abs(drift.change) >= 0.20 else "warning") if drift.harmful else "info"
    suggestion = (
        drift.spec.suggestion.replace("{since}", drift.since)
        if drift.harmful
        else f"A change for the better: note what changed on {drift.since} (a model, a prompt "
        "version, a provider) so that it stays."
    )
    context: dict[str, object] = {
        "drift_key": drift.key,
        "series": drift.spec.key,
        "label": drift.spec.label,
        "unit": drift.spec.unit,
        "baseline": drift.baseline,
        "current": drift.current,
        "change": drift.change,
        "since": drift.since,
        "detected": drift.detected,
        "suggestion": suggestion,
    }
    return severity, drift.describe(lambda v: show_value(drift.spec.unit, v)), context


@dataclass(frozen=True)
class DriftCheck:
    series: int
    found: list[Drift]
    new_alert_ids: list[int]

    @property
    def already_known(self) -> int:
        return len(self.found) - len(self.new_alert_ids)


def check_drift(
    store: Store,
    *,
    now: datetime | None = None,
    days: int = DRIFT_DAYS,
    settings: DriftSettings | None = None,
    sample_limit: int = DRIFT_SAMPLE_LIMIT,
    both_ways: bool = False,
) -> DriftCheck:
    """Run drift detection on every series and write an alert for each drift not raised
    before (the same series and onset day is the same drift). Only harmful shifts are looked
    for unless `both_ways`."""
    series = drift_series(store, now=now, days=days, sample_limit=sample_limit, both_ways=both_ways)
    found = [
        drift
        for spec, points in series
        if (drift := detect_drift(spec, points, settings)) is not None
    ]
    created = to_iso(_now(now))

    def write(db: Database) -> list[int]:
        known = alerts_repo.drift_keys(db)
        ids = []
        for drift in found:
            if drift.key in known:
                continue
            severity, message, context = _alert_fields(drift)
            ids.append(alerts_repo.add_alert(db, "drift", severity, message, context, created))
            known.add(drift.key)
        return ids

    new_ids = store.write(write) if found else []
    return DriftCheck(series=len(series), found=found, new_alert_ids=new_ids)


# -- alerts ----------------------------------------------------------------------------------


def list_alerts(store: Store, limit: int = 200) -> list[AlertRow]:
    return alerts_repo.list_alerts(store.read(), limit)


def ack_alert(store: Store, alert_id: int, by: str) -> bool:
    return store.write(lambda db: alerts_repo.ack_alert(db, alert_id, by))
