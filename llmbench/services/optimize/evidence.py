"""A candidate's verdict from a run already recorded: when the prompt's runs hold the change
itself (the production version on the cheaper model, or a version with exactly the candidate's
text and params) beside the production version on its model, the newest such run is reported
as the candidate's own run would be (engine.compare_groups: quality delta with its CI,
regressions, cost per case) and judged by the same rule (testing.holds_quality).

This is how a candidate whose run needs a hosted model is judged without a key: a team's
database holds the comparisons it paid for (a model bake-off, an earlier `llmbench optimize`
run), and the verdict says which run it came from."""

from __future__ import annotations

from llmbench.core.models import PromptVersion
from llmbench.core.optimize.candidates import Candidate
from llmbench.services.evaluation.engine import compare_groups
from llmbench.services.optimize.candidates import Found
from llmbench.services.optimize.testing import Tested, projected
from llmbench.store import optimize_history as repo
from llmbench.store.db import Store
from llmbench.store.prompts import versions as prompts_repo


def same_change(version: PromptVersion, candidate: Candidate) -> bool:
    """Whether a saved version is the candidate's new version: the same text, params, example
    pool, few-shot setting and cache marks."""
    return (
        version.sections == candidate.sections
        and version.params == candidate.params
        and tuple(version.examples) == tuple(candidate.examples)
        and version.few_shot_k == candidate.few_shot_k
        and tuple(version.cacheable) == tuple(candidate.cacheable)
    )


def candidate_groups(store: Store, found: Found, candidate: Candidate) -> list[tuple[int, str]]:
    """The (version, model) groups that are this candidate: the production version on the
    cheaper model for a route, else each saved version with the candidate's content on the
    production model."""
    if not candidate.new_version:
        return [(found.version.id, candidate.model)] if candidate.model else []
    versions = prompts_repo.list_versions(store.read(), found.prompt.id)
    return [
        (version.id, found.usage.model)
        for version in versions
        if version.id != found.version.id and same_change(version, candidate)
    ]


def recorded(store: Store, found: Found, candidate: Candidate) -> Tested | None:
    """The candidate judged by the newest finished run that compared it with the production
    version on its model on paired, checked cases; None when no run did."""
    if not candidate.testable:
        return None
    baseline = (found.version.id, found.usage.model)
    runs = [
        (run, group)
        for group in candidate_groups(store, found, candidate)
        for run in repo.runs_with_groups(store.read(), baseline, group)
    ]
    runs.sort(key=lambda item: (item[0].finished_at, item[0].id), reverse=True)
    for run, (version_id, model) in runs:
        report = compare_groups(store, run.id, baseline, (version_id, model))
        if report.paired_cases and report.quality_delta is not None:
            return Tested(
                candidate, version_id, model, run.id, report, projected(found, candidate, report)
            )
    return None
