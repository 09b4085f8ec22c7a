"""What an evaluation run says: a scoreboard per prompt version × model, and a migration report
that sets a candidate against a baseline on the cases both answered.

Pure computation over plain cell records (the store reads them). A cell *succeeds* when the
model answered and none of its checks failed; an error cell fails. A cell's *quality* is its
weighted check score (0–1), or 1/0 by success when it has no scored checks; reports show it
in points (0–100).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from llmbench.core.stats import percentiles

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
# Differences smaller than this many points are reported as level, not better or worse.
LEVEL_POINTS = 0.05


@dataclass(frozen=True)
class CellRecord:
    """One finished cell of a run, as the scoreboard needs it."""

    result_id: int
    version_id: int | None
    version_label: str  # "support-reply@3"; empty when the cell has no saved version
    model: str
    case_id: int | None
    repeat: int
    status: str  # "ok" or "error"
    passed: bool | None  # None: the cell has no checks
    score: float | None  # weighted check score, 0..1
    judge_score: float | None  # mean of the cell's judge checks, 0..1
    cost: float | None  # USD of the answering call; None when unpriced or not answered
    latency_ms: float | None
    output: str = ""
    failures: tuple[str, ...] = ()  # "kind: detail" of each failed check, or the error
    similarity: float | None = None  # ROUGE-L F1 against the case's golden answer, 0..1
    pairwise: float | None = None  # the pairwise judge's verdict vs the baseline: 1 / 0.5 / 0
    # The tools the answer called ({"id", "name", "arguments"} each, in its order; since m013).
    tool_calls: tuple[dict[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def succeeded(self) -> bool:
        return self.ok and self.passed is not False

    @property
    def quality(self) -> float:
        if not self.ok:
            return 0.0
        if self.score is not None:
            return self.score
        return 1.0 if self.succeeded else 0.0


@dataclass(frozen=True)
class GroupStats:
    """One prompt version × model of a run."""

    version_id: int | None
    version_label: str
    model: str
    cells: int
    passed: int
    errors: int
    cases: int
    mean_judge_score: float | None  # 0..1, over cells with a judge check
    total_cost: float  # USD over priced answered cells
    unpriced: int  # answered cells without a price
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_similarity: float | None = None  # ROUGE-L vs golden answers, over cells that have one
    pairwise_win_rate: float | None = None  # wins + half the ties, over pairwise verdicts
    pairwise_judged: int = 0  # cells with a pairwise verdict vs the baseline group

    @property
    def name(self) -> str:
        return f"{self.version_label or 'draft'} × {self.model}"

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0

    @property
    def cost_per_case(self) -> float | None:
        priced = self.cells - self.errors - self.unpriced
        if not self.cases or priced <= 0:
            return None
        return self.total_cost / self.cases


def scoreboard(cells: Iterable[CellRecord]) -> list[GroupStats]:
    """Per version × model, in the order the groups first appear."""
    groups: dict[tuple[int | None, str], list[CellRecord]] = defaultdict(list)
    for cell in cells:
        groups[(cell.version_id, cell.model)].append(cell)
    return [_group(members) for members in groups.values()]


def _group(cells: Sequence[CellRecord]) -> GroupStats:
    answered = [cell for cell in cells if cell.ok]
    judged = [cell.judge_score for cell in cells if cell.judge_score is not None]
    similarities = [cell.similarity for cell in answered if cell.similarity is not None]
    verdicts = [cell.pairwise for cell in answered if cell.pairwise is not None]
    p50, p95 = percentiles(
        (cell.latency_ms for cell in answered if cell.latency_ms is not None), (0.5, 0.95)
    )
    return GroupStats(
        version_id=cells[0].version_id,
        version_label=cells[0].version_label,
        model=cells[0].model,
        cells=len(cells),
        passed=sum(cell.succeeded for cell in cells),
        errors=len(cells) - len(answered),
        cases=len({cell.case_id for cell in cells}),
        mean_judge_score=sum(judged) / len(judged) if judged else None,
        total_cost=sum(cell.cost for cell in answered if cell.cost is not None),
        unpriced=sum(cell.cost is None for cell in answered),
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        mean_similarity=_mean(similarities),
        pairwise_win_rate=_mean(verdicts),
        pairwise_judged=len(verdicts),
    )


# -- migration report ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOutcome:
    """A case over all of a side's cells (versions, models and repeats)."""

    case_id: int | None
    passed: bool  # every cell of the case succeeded
    quality: float  # mean cell quality, 0..1
    cost: float | None  # mean cost of the priced answered cells
    latency_ms: float | None  # mean latency of the answered cells


def case_outcomes(cells: Iterable[CellRecord]) -> dict[int | None, CaseOutcome]:
    by_case: dict[int | None, list[CellRecord]] = defaultdict(list)
    for cell in cells:
        by_case[cell.case_id].append(cell)
    return {case_id: _case(case_id, members) for case_id, members in by_case.items()}


def _case(case_id: int | None, cells: Sequence[CellRecord]) -> CaseOutcome:
    costs = [cell.cost for cell in cells if cell.ok and cell.cost is not None]
    latencies = [cell.latency_ms for cell in cells if cell.ok and cell.latency_ms is not None]
    return CaseOutcome(
        case_id=case_id,
        passed=all(cell.succeeded for cell in cells),
        quality=sum(cell.quality for cell in cells) / len(cells),
        cost=sum(costs) / len(costs) if costs else None,
        latency_ms=sum(latencies) / len(latencies) if latencies else None,
    )


@dataclass(frozen=True)
class MigrationReport:
    """Candidate against baseline on the cases both sides have (paired by case)."""

    paired_cases: int
    only_baseline: int  # cases the candidate did not run
    only_candidate: int
    baseline_pass_rate: float | None
    candidate_pass_rate: float | None
    regressions: tuple[int | None, ...]  # case ids that passed in the baseline and fail now
    fixes: tuple[int | None, ...]  # failed in the baseline, pass now
    quality_delta: float | None  # points (0–100), candidate minus baseline
    ci_low: float | None  # bootstrap confidence interval of quality_delta, in points
    ci_high: float | None
    mcnemar_p: float | None  # exact McNemar test on the flips
    baseline_cost_per_case: float | None
    candidate_cost_per_case: float | None
    baseline_latency_p50_ms: float | None
    candidate_latency_p50_ms: float | None
    baseline_latency_p95_ms: float | None
    candidate_latency_p95_ms: float | None
    # The candidate's pairwise verdicts against the baseline its run named (wins + half the
    # ties), when its run had a pairwise judge.
    candidate_win_rate: float | None = None
    pairwise_judged: int = 0

    @property
    def cost_change(self) -> float | None:
        """Relative change of cost per case (-0.38 is 38% cheaper)."""
        return _relative(self.baseline_cost_per_case, self.candidate_cost_per_case)

    @property
    def latency_change(self) -> float | None:
        return _relative(self.baseline_latency_p50_ms, self.candidate_latency_p50_ms)

    @property
    def significant(self) -> bool:
        """The quality interval excludes zero."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low > 0 or self.ci_high < 0

    def verdict(self, name: str = "candidate") -> str:
        """One line: 'candidate is 4.1 points better, 38% cheaper, 3 regressions'."""
        if not self.paired_cases:
            return f"{name} shares no case with the baseline: nothing to compare"
        parts = [f"{name} is {_quality_words(self.quality_delta)}"]
        if self.ci_low is not None and self.ci_high is not None:
            parts[0] += f" (95% CI {self.ci_low:+.1f} to {self.ci_high:+.1f})"
        parts.append(_change_words(self.cost_change, "cheaper", "more expensive", "cost"))
        parts.append(_change_words(self.latency_change, "faster", "slower", "latency"))
        count = len(self.regressions)
        parts.append(f"{count} regression{'s' if count != 1 else ''}")
        if self.fixes:
            parts.append(f"{len(self.fixes)} fixed")
        if self.candidate_win_rate is not None:
            parts.append(
                f"pairwise win rate {self.candidate_win_rate:.0%} (n={self.pairwise_judged})"
            )
        return ", ".join(part for part in parts if part)


def _relative(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return after / before - 1


def _quality_words(delta: float | None) -> str:
    if delta is None:
        return "of unknown quality"
    if abs(delta) < LEVEL_POINTS:
        return "level on quality"
    return f"{abs(delta):.1f} points {'better' if delta > 0 else 'worse'}"


def _change_words(change: float | None, lower: str, higher: str, what: str) -> str:
    if change is None:
        return ""
    percent = round(abs(change) * 100)
    if percent == 0:
        return f"same {what}"
    return f"{percent}% {lower if change < 0 else higher}"


def migration_report(
    baseline: Iterable[CellRecord], candidate: Iterable[CellRecord], *, seed: int = 0
) -> MigrationReport:
    """Pair the two sides by case. `seed` makes the bootstrap interval repeatable."""
    candidate = list(candidate)
    before = case_outcomes(baseline)
    after = case_outcomes(candidate)
    verdicts = [cell.pairwise for cell in candidate if cell.ok and cell.pairwise is not None]
    shared = [case_id for case_id in before if case_id in after]
    pairs = [(before[case_id], after[case_id]) for case_id in shared]
    differences = [(new.quality - old.quality) * 100 for old, new in pairs]
    regressions = tuple(old.case_id for old, new in pairs if old.passed and not new.passed)
    fixes = tuple(old.case_id for old, new in pairs if not old.passed and new.passed)
    interval = bootstrap_interval(differences, seed=seed)
    old_latency = percentiles(_values(old.latency_ms for old, _ in pairs), (0.5, 0.95))
    new_latency = percentiles(_values(new.latency_ms for _, new in pairs), (0.5, 0.95))
    return MigrationReport(
        paired_cases=len(pairs),
        only_baseline=len(before) - len(shared),
        only_candidate=len(after) - len(shared),
        baseline_pass_rate=_mean([float(old.passed) for old, _ in pairs]),
        candidate_pass_rate=_mean([float(new.passed) for _, new in pairs]),
        regressions=regressions,
        fixes=fixes,
        quality_delta=_mean(differences),
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        mcnemar_p=mcnemar_exact(len(fixes), len(regressions)) if pairs else None,
        baseline_cost_per_case=_mean(_values(old.cost for old, _ in pairs)),
        candidate_cost_per_case=_mean(_values(new.cost for _, new in pairs)),
        baseline_latency_p50_ms=old_latency[0],
        candidate_latency_p50_ms=new_latency[0],
        baseline_latency_p95_ms=old_latency[1],
        candidate_latency_p95_ms=new_latency[1],
        candidate_win_rate=_mean(verdicts),
        pairwise_judged=len(verdicts),
    )


def _values(values: Iterable[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def bootstrap_interval(
    differences: Sequence[float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of paired differences (None when empty)."""
    if not differences:
        return None
    rng = random.Random(seed)
    size = len(differences)
    means = sorted(sum(rng.choices(differences, k=size)) / size for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[max(0, math.floor(tail * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    return low, high


def mcnemar_exact(fixes: int, regressions: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the discordant pairs."""
    discordant = fixes + regressions
    if discordant == 0:
        return 1.0
    smaller = min(fixes, regressions)
    tail = sum(math.comb(discordant, k) for k in range(smaller + 1)) / 2**discordant
    return min(1.0, 2 * tail)
