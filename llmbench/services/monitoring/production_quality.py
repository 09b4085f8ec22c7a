"""Production quality as F7 shows it and drift detection watches it: the judge's daily mean
score on sampled production calls (`monitor sample`), and each prompt's daily share of similar
queries whose answers diverge (`monitor consistency`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from llmbench.core.monitoring.drift import SeriesSpec
from llmbench.store import consistency as consistency_repo
from llmbench.store import monitor as monitor_repo
from llmbench.store.consistency import ConsistencyDay
from llmbench.store.monitor import DailyJudge
from llmbench.store.views import to_iso

if TYPE_CHECKING:
    from llmbench.store.db import Database

# Days with fewer observations are left out of drift series: a mean of three verdicts, or the
# share of four pairs, is noise rather than a level.
MIN_DAY_JUDGED = 10
MIN_DAY_PAIRS = 20
# A share of diverging pairs is most days 0 or near it: a shift is measured against at least
# one percentage point of spread, so one odd pair on a quiet day is no alarm.
CONSISTENCY_MIN_SPREAD = 0.01
JUDGE_NEXT_STEP = (
    "Open F6 on the judged calls since {since} (checks 'monitor sample'), read the judge's "
    "reasons per rubric, grade a few in F4, and compare the prompt version serving since then "
    "against the one before it in F3."
)
CONSISTENCY_NEXT_STEP = (
    "Run `llmbench monitor consistency --prompt {prompt}` to see example pairs of similar "
    "questions with diverging answers since {since}; open them in F6. A new prompt version, "
    "model or a higher temperature are the usual causes."
)


@dataclass(frozen=True)
class ConsistencySeries:
    prompt: str
    days: list[ConsistencyDay]

    def points(self, min_pairs: int = 1) -> list[tuple[str, float]]:
        return [(day.day, day.divergent / day.pairs) for day in self.days if day.pairs >= min_pairs]

    @property
    def latest(self) -> ConsistencyDay | None:
        return next((day for day in reversed(self.days) if day.pairs), None)


@dataclass(frozen=True)
class ProductionQuality:
    judge: list[DailyJudge]
    consistency: list[ConsistencySeries]

    @property
    def latest_judge(self) -> DailyJudge | None:
        return next((day for day in reversed(self.judge) if day.judged), None)

    def consistency_by_day(self) -> list[tuple[str, int, int]]:
        """(day, neighbour pairs, diverging pairs) over every prompt, oldest first."""
        totals: dict[str, tuple[int, int]] = {}
        for series in self.consistency:
            for day in series.days:
                pairs, divergent = totals.get(day.day, (0, 0))
                totals[day.day] = (pairs + day.pairs, divergent + day.divergent)
        return [(day, *totals[day]) for day in sorted(totals)]


def _series(db: Database, since: str, until: str) -> list[ConsistencySeries]:
    by_prompt: dict[str, list[ConsistencyDay]] = {}
    for day in consistency_repo.consistency_days(db, since[:10], until[:10]):
        by_prompt.setdefault(day.prompt, []).append(day)
    return [ConsistencySeries(prompt, days) for prompt, days in sorted(by_prompt.items())]


def production_quality(db: Database, end: datetime, days: int) -> ProductionQuality:
    since, until = to_iso(end - timedelta(days=days)), to_iso(end)
    return ProductionQuality(
        judge=monitor_repo.daily_judge_scores(db, since, until),
        consistency=_series(db, since, until),
    )


def production_drift_series(
    db: Database, since: str, until: str
) -> list[tuple[SeriesSpec, list[tuple[str, float]]]]:
    """The judge's mean score (down is worse) and each prompt's share of diverging answers
    to similar queries (up is worse), days with too few observations left out."""
    judged = monitor_repo.daily_judge_scores(db, since, until)
    series: list[tuple[SeriesSpec, list[tuple[str, float]]]] = [
        (
            SeriesSpec("judge_score", "Judge score (production)", True, "ratio", JUDGE_NEXT_STEP),
            [
                (day.day, float(day.mean_score))
                for day in judged
                if day.judged >= MIN_DAY_JUDGED and day.mean_score is not None
            ],
        )
    ]
    for item in _series(db, since, until):
        spec = SeriesSpec(
            f"consistency:{item.prompt}",
            f"{item.prompt} diverging answers",
            False,
            "ratio",
            CONSISTENCY_NEXT_STEP.replace("{prompt}", item.prompt),
            min_spread=CONSISTENCY_MIN_SPREAD,
            change_in_points=True,
        )
        series.append((spec, item.points(MIN_DAY_PAIRS)))
    return series
