"""Migration reports for the Compare pane: a run against its baseline run, or, inside one run,
each prompt version × model against the first one (the current prompt and model, by the
order they were picked in)."""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.core.evaluation.scoreboard import MigrationReport
from llmbench.services.evaluation.engine import (
    EvalError,
    compare_groups,
    compare_runs,
    scoreboard,
)
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import cases_by_id, run_plan


@dataclass(frozen=True)
class Comparison:
    baseline: str  # what is compared against: "run 3 (nightly)" or "support-reply@2 × gpt-4o"
    candidate: str
    report: MigrationReport
    case_titles: dict[int | None, str]  # for the regressions and fixes it lists

    def case_title(self, case_id: int | None) -> str:
        return self.case_titles.get(case_id, f"case {case_id}")


def comparisons(store: Store, run_id: int, baseline_run_id: int | None = None) -> list[Comparison]:
    """Against `baseline_run_id` (or the run's own baseline) when there is one; otherwise
    each group of the run against its first group. Empty when there is nothing to compare."""
    plan = run_plan(store.read(), run_id)
    if plan is None:
        raise EvalError(f"no run with id {run_id}")
    baseline = baseline_run_id if baseline_run_id is not None else plan.baseline_run_id
    if baseline is not None:
        base_plan = run_plan(store.read(), baseline)
        if base_plan is None:
            raise EvalError(f"no run with id {baseline}")
        report = compare_runs(store, baseline, run_id)
        found = [
            Comparison(
                _run_label(baseline, base_plan.name), _run_label(run_id, plan.name), report, {}
            )
        ]
    else:
        groups = scoreboard(store, run_id)
        if len(groups) < 2:
            return []
        first = groups[0]
        found = [
            Comparison(
                first.name,
                group.name,
                compare_groups(
                    store, run_id, (first.version_id, first.model), (group.version_id, group.model)
                ),
                {},
            )
            for group in groups[1:]
        ]
    return [_with_titles(store, comparison) for comparison in found]


def _run_label(run_id: int, name: str) -> str:
    return f"run {run_id}" + (f" ({name})" if name else "")


def _with_titles(store: Store, comparison: Comparison) -> Comparison:
    report = comparison.report
    ids = [case_id for case_id in (*report.regressions, *report.fixes) if case_id is not None]
    cases = cases_by_id(store.read(), ids)
    titles: dict[int | None, str] = {
        case_id: "  ".join(f"{name}={value}" for name, value in case.vars.items())
        for case_id, case in cases.items()
    }
    return Comparison(comparison.baseline, comparison.candidate, report, titles)
