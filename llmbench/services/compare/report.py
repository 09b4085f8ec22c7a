"""Migration reports for the Compare pane: a run against its baseline run, or, inside one run,
each prompt version × model against the first one picked (the current prompt and model): the
versions and models in the order the comparison picked them, and for a comparison of the
editor's draft, the saved version it was run against, with the draft as the candidate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.core.evaluation.scoreboard import GroupStats, MigrationReport
from llmbench.services.compare.draft_run import is_draft_run
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
        groups = in_picked_order(scoreboard(store, run_id), plan.config)
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


def in_picked_order(groups: Sequence[GroupStats], config: Mapping[str, Any]) -> list[GroupStats]:
    """The run's groups in the order its versions and models were picked (the stored cells
    come in id order, which puts an unsaved draft, with no version id, first)."""
    models = [str(model) for model in config.get("models") or ()]
    if is_draft_run(config):
        versions: list[int | None] = [int(config["baseline_version_id"]), None]
    else:
        versions = [int(v) for v in config.get("version_ids") or ()]

    def rank(item: tuple[int, GroupStats]) -> tuple[int, int, int]:
        index, group = item
        version = versions.index(group.version_id) if group.version_id in versions else 1 << 30
        model = models.index(group.model) if group.model in models else 1 << 30
        return version, model, index

    return [group for _, group in sorted(enumerate(groups), key=rank)]


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
