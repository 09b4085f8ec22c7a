"""The scoreboard and the migration report: pure figures over cell records."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.core.evaluation.scoreboard import (
    CellRecord,
    bootstrap_interval,
    mcnemar_exact,
    migration_report,
    scoreboard,
)


def _cell(
    case_id: int,
    *,
    model: str = "m",
    version_id: int = 1,
    status: str = "ok",
    passed: bool | None = True,
    score: float | None = None,
    judge: float | None = None,
    cost: float | None = 0.01,
    latency: float | None = 100.0,
    repeat: int = 0,
) -> CellRecord:
    return CellRecord(
        result_id=case_id * 100 + repeat,
        version_id=version_id,
        version_label=f"p@{version_id}",
        model=model,
        case_id=case_id,
        repeat=repeat,
        status=status,
        passed=passed,
        score=score,
        judge_score=judge,
        cost=cost,
        latency_ms=latency,
    )


def test_the_scoreboard_has_one_row_per_version_and_model() -> None:
    cells = [
        _cell(1, model="a", latency=100, judge=0.5),
        _cell(2, model="a", latency=300, passed=False, judge=1.0),
        _cell(3, model="a", status="error", passed=None, cost=None, latency=None),
        _cell(4, model="a", latency=200, cost=None),  # answered but unpriced
        _cell(1, model="b", latency=50, cost=0.002),
    ]
    first, second = scoreboard(cells)
    assert (first.name, first.cells, first.passed, first.errors, first.cases) == (
        "p@1 × a",
        4,
        2,
        1,
        4,
    )
    assert first.pass_rate == 0.5
    assert first.mean_judge_score == 0.75
    assert first.unpriced == 1
    assert first.total_cost == pytest.approx(0.02)
    assert first.cost_per_case == pytest.approx(0.005)
    assert (first.latency_p50_ms, first.latency_p95_ms) == (200, 300)
    assert (second.model, second.pass_rate, second.cost_per_case) == ("b", 1.0, 0.002)


def test_a_cell_without_checks_succeeds_when_answered() -> None:
    assert _cell(1, passed=None).succeeded
    assert not _cell(1, status="error", passed=None).succeeded
    assert _cell(1, passed=None).quality == 1.0
    assert _cell(1, passed=False, score=0.4).quality == 0.4
    assert _cell(1, status="error", passed=None, score=0.9).quality == 0.0


def test_the_migration_report_pairs_cases_and_counts_flips() -> None:
    baseline = [_cell(i, passed=i != 5, cost=0.010, latency=200) for i in range(1, 11)]
    candidate = [
        _cell(i, model="new", passed=i not in (2, 3), cost=0.006, latency=100) for i in range(1, 11)
    ] + [_cell(11, model="new")]
    report = migration_report(baseline, candidate)
    assert report.paired_cases == 10
    assert (report.only_baseline, report.only_candidate) == (0, 1)
    assert report.regressions == (2, 3)
    assert report.fixes == (5,)
    assert report.baseline_pass_rate == 0.9 and report.candidate_pass_rate == 0.8
    assert report.quality_delta == pytest.approx(-10.0)
    assert report.ci_low is not None and report.ci_high is not None
    assert report.ci_low <= -10.0 <= report.ci_high
    assert report.cost_change == pytest.approx(-0.4)
    assert report.latency_change == pytest.approx(-0.5)
    assert report.mcnemar_p == pytest.approx(1.0)
    assert report.verdict() == (
        "candidate is 10.0 points worse (95% CI "
        f"{report.ci_low:+.1f} to {report.ci_high:+.1f}), 40% cheaper, 50% faster,"
        " 2 regressions, 1 fixed"
    )


def test_a_better_candidate_reads_better_and_is_significant() -> None:
    baseline = [_cell(i, passed=i <= 10) for i in range(1, 31)]
    candidate = [_cell(i, passed=True) for i in range(1, 31)]
    report = migration_report(baseline, candidate)
    assert report.fixes == tuple(range(11, 31)) and report.regressions == ()
    assert report.significant
    assert report.verdict("gpt-new").startswith("gpt-new is 66.7 points better")
    assert "0 regressions" in report.verdict()
    assert report.mcnemar_p == pytest.approx(2 / 2**20)


def test_repeats_and_models_of_a_case_count_as_one_case() -> None:
    baseline = [_cell(1, repeat=0), _cell(1, repeat=1, passed=False)]
    candidate = [_cell(1, repeat=0), _cell(1, repeat=1)]
    report = migration_report(baseline, candidate)
    assert report.paired_cases == 1
    assert report.fixes == (1,)
    assert report.quality_delta == pytest.approx(50.0)


def test_no_shared_case_says_so() -> None:
    report = migration_report([_cell(1)], [_cell(2)])
    assert report.paired_cases == 0 and report.quality_delta is None
    assert "shares no case" in report.verdict()


def test_mcnemar_exact_matches_the_binomial_tail() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * (1 + 10) / 1024)
    assert mcnemar_exact(5, 5) == 1.0


def test_the_bootstrap_is_repeatable_and_brackets_the_mean() -> None:
    values = [1.0, -2.0, 3.0, 0.5, 4.0, -1.0, 2.0]
    first = bootstrap_interval(values, seed=7)
    assert first == bootstrap_interval(values, seed=7)
    assert first is not None
    assert first[0] <= sum(values) / len(values) <= first[1]
    assert bootstrap_interval([]) is None
    assert bootstrap_interval([2.0, 2.0]) == (2.0, 2.0)


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=40))
def test_the_interval_lies_within_the_values(values: list[float]) -> None:
    interval = bootstrap_interval(values, resamples=200)
    assert interval is not None
    low, high = interval
    assert min(values) - 1e-9 <= low <= high <= max(values) + 1e-9
    assert not math.isnan(low)
