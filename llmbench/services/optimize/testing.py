"""One candidate tested: saved as a new version (or, for a cheaper model, the same version on
that model) and run against the production version on the prompt's dataset as an ordinary
evaluation run, whose migration report says whether quality held.

The run's groups are the production version × its model (the baseline, first) and the candidate
× its model; F3 lists and reports it like any other run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.config import Settings
from llmbench.core.evaluation.scoreboard import MigrationReport
from llmbench.core.models import Case
from llmbench.core.optimize.candidates import Candidate
from llmbench.core.optimize.replay import monthly
from llmbench.core.prompts.templates import detect_variables
from llmbench.services.evaluation.engine import EvalPlan, compare_groups, run_eval
from llmbench.services.optimize.candidates import Found, OptimizeError
from llmbench.services.optimize.production_cases import production_dataset
from llmbench.store import datasets as datasets_repo
from llmbench.store.db import Store
from llmbench.store.prompts import versions as prompts_repo

# Quality holds when the candidate loses at most this many points of pass rate and the loss
# is not significant (its confidence interval still reaches zero).
TOLERANCE_POINTS = 2.0


@dataclass(frozen=True)
class Tested:
    candidate: Candidate
    version_id: int  # the candidate's version (the production one for a cheaper model)
    model: str
    run_id: int
    report: MigrationReport
    projected_monthly: float

    @property
    def holds(self) -> bool:
        return holds_quality(self.report)


def holds_quality(report: MigrationReport) -> bool:
    if report.quality_delta is None or not report.paired_cases:
        return False  # no checks passed or failed: quality was not measured
    if report.quality_delta < -TOLERANCE_POINTS:
        return False
    return not (report.significant and report.quality_delta < 0)


def pick_dataset(
    store: Store, found: Found, name: str | None = None, *, production: bool = False
) -> tuple[int, list[Case]]:
    """The named dataset; else the one named after the prompt; else the first whose cases
    fill in every variable the version uses; else (or with `production`) a sample of the
    production version's recent inputs saved as a dataset (production_cases.py)."""
    if production:
        return production_dataset(store, found)
    db = store.read()
    if name:
        dataset_id = datasets_repo.dataset_id(db, name)
        if dataset_id is None:
            raise OptimizeError(f"no dataset named {name!r}")
        return dataset_id, datasets_repo.list_cases(db, dataset_id)
    needed = set(detect_variables(found.version.sections))
    rows = datasets_repo.list_datasets(db)
    rows.sort(key=lambda row: row.name != found.prompt.name)
    for row in rows:
        cases = datasets_repo.list_cases(db, row.id)
        if cases and all(needed <= set(case.vars) for case in cases):
            return row.id, cases
    return production_dataset(store, found)  # no dataset of its own: production's inputs


def _case_checks(cases: Sequence[Case]) -> dict[int, tuple[Mapping[str, Any], ...]]:
    """Cases without checks of their own but with a golden answer are checked against it."""
    if any(case.checks for case in cases):
        return {}
    return {
        case.id: ({"type": "equals", "value": case.expected},)
        for case in cases
        if case.expected is not None
    }


def save_candidate_version(store: Store, found: Found, candidate: Candidate) -> int:
    """The candidate as a new version of the prompt, child of the production one."""
    version = found.version
    return store.write(
        lambda db: prompts_repo.add_version(
            db,
            found.prompt.id,
            candidate.sections,
            variables=version.variables,
            model=version.model,
            params=candidate.params,
            author="llmbench optimize",
            message=f"optimize: {candidate.title}",
            parent_id=version.id,
            examples=candidate.examples,
            few_shot_k=candidate.few_shot_k,
            cacheable=candidate.cacheable,
        )
    )


def test_candidate(
    store: Store,
    settings: Settings,
    found: Found,
    candidate: Candidate,
    dataset: str | None = None,
    *,
    production: bool = False,
) -> Tested:
    if not candidate.testable:
        raise OptimizeError(f"{candidate.title}: answers come from the cache, nothing to run")
    _, cases = pick_dataset(store, found, dataset, production=production)
    model = found.usage.model
    if candidate.new_version:
        version_id = save_candidate_version(store, found, candidate)
        plan = EvalPlan(
            name=f"optimize {found.prompt.name}: {candidate.title}",
            version_ids=(found.version.id, version_id),
            case_ids=tuple(case.id for case in cases),
            models=(model,),
            case_checks=_case_checks(cases),
        )
        candidate_model = model
    else:
        version_id, candidate_model = found.version.id, candidate.model
        plan = EvalPlan(
            name=f"optimize {found.prompt.name}: {candidate.title}",
            version_ids=(found.version.id,),
            case_ids=tuple(case.id for case in cases),
            models=(model, candidate_model),
            case_checks=_case_checks(cases),
        )
    summary = run_eval(store, settings, plan)
    report = compare_groups(
        store, summary.run_id, (found.version.id, model), (version_id, candidate_model)
    )
    return Tested(
        candidate, version_id, candidate_model, summary.run_id, report,
        projected(found, candidate, report),
    )  # fmt: skip


def projected(found: Found, candidate: Candidate, report: MigrationReport) -> float:
    """The monthly saving: replayed from the calls when the rule could replay it; otherwise
    (a shorter answer) the run's relative cost change at the month's spend."""
    if candidate.projected_monthly > 0:
        return candidate.projected_monthly
    change = report.cost_change
    if change is None or change >= 0:
        return 0.0
    return monthly(-change * found.usage.cost, found.usage.window_days)
