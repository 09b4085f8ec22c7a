"""A suite file made runnable: its prompt refs resolved to saved versions, its inline prompts
saved as versions, its tests saved as cases, all in one write, and the run's plan built.

Results point at saved versions and cases, so a run can be resumed and compared with another
run on the same cases: an inline prompt gets a new version only when its text changed, and a
test already in the suite's dataset (same variables and expected answer) keeps its case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmbench.core.models import PromptVersion
from llmbench.core.prompts.templates import TemplateError
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import (
    InlinePrompt,
    PromptRef,
    SuiteDoc,
    SuiteError,
    TestDoc,
)
from llmbench.importers.file_problems import FileProblem
from llmbench.services.evaluation.engine import DEFAULT_CONCURRENCY, EvalPlan
from llmbench.services.evaluation.pairwise import DEFAULT_CRITERIA, PairwiseConfig
from llmbench.services.prompts.library import Draft, reconcile_variables
from llmbench.store import datasets
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import canonical_json, dataset_case_keys
from llmbench.store.prompts import versions as prompts_repo

AUTHOR = "llmbench eval"
SUITE_DATASET_PREFIX = "suite: "


@dataclass(frozen=True)
class PreparedSuite:
    doc: SuiteDoc
    plan: EvalPlan
    labels: dict[int, str]  # version id -> "name@N"
    saved_versions: tuple[str, ...]  # inline prompts that got a new version
    new_cases: int


def prepare_suite(
    store: Store,
    path: Path,
    *,
    concurrency: int | None = None,
) -> PreparedSuite:
    """Read the suite, resolve and save what it names, and return the run's plan.
    SuiteError (file:line problems) when anything is missing or wrong; nothing is written
    then."""
    doc = load_suite(path)
    problems = _check_references(store, doc) + _grading_conflicts(doc)
    baseline: tuple[int | None, str | None] = (None, None)
    if doc.pairwise and not problems:
        try:
            baseline = _pairwise_baseline(store, doc)
        except ValueError as error:
            problems.append(FileProblem(doc.path, doc.pairwise_line, str(error)))
    if problems:
        raise SuiteError(problems)

    case_grading: dict[int, dict[str, Any]] = {}
    case_params: dict[int, dict[str, Any]] = {}

    def job(db: Any) -> tuple[list[int], list[str], list[int], dict[int, tuple[Any, ...]], int]:
        version_ids: list[int] = []
        saved: list[str] = []
        for item in doc.prompts:
            if isinstance(item, PromptRef):
                version_ids.append(prompts_repo.resolve_version(db, item.name, item.ref).id)
            else:
                version_id, new = _save_inline(db, item, doc.path)
                version_ids.append(version_id)
                if new:
                    saved.append(item.name)
        case_ids: list[int] = []
        case_checks: dict[int, tuple[Any, ...]] = {}
        if doc.dataset is not None:
            found = datasets.dataset_id(db, doc.dataset)
            assert found is not None  # checked above
            case_ids.extend(case.id for case in datasets.list_cases(db, found))
        added = 0
        if doc.tests:
            ids, added = _save_tests(db, SUITE_DATASET_PREFIX + doc.name, doc.tests)
            for case_id, test in zip(ids, doc.tests, strict=True):
                if test.checks:
                    case_checks[case_id] = case_checks.get(case_id, ()) + test.checks
                if test.grading:
                    case_grading[case_id] = test.grading
                if test.params:
                    case_params[case_id] = test.params
            case_ids.extend(ids)
        if not case_ids:  # raised inside the job, so the inline prompts saved above roll back
            raise SuiteError([FileProblem(doc.path, doc.dataset_line or 1, "the dataset is empty")])
        return version_ids, saved, list(dict.fromkeys(case_ids)), case_checks, added

    version_ids, saved, case_ids, case_checks, added = store.write(job)
    plan = EvalPlan(
        name=doc.name,
        version_ids=tuple(dict.fromkeys(version_ids)),
        case_ids=tuple(case_ids),
        models=doc.models,
        repeats=doc.repeat,
        checks=doc.checks,
        case_checks=case_checks,
        grading=doc.grading,
        case_grading=case_grading,
        params=doc.params,
        case_params=case_params,
        judge_model=doc.judge_model,
        judge_dimensions=doc.judge_dimensions,
        judge_params=doc.judge_params,
        concurrency=concurrency or doc.concurrency or DEFAULT_CONCURRENCY,
        source=doc.path,
        pairwise=_pairwise_data(doc, baseline, version_ids),
    )
    labels = _labels(store, plan.version_ids)
    return PreparedSuite(doc, plan, labels, tuple(saved), added)


def _grading_conflicts(doc: SuiteDoc) -> list[FileProblem]:
    """Tests with the same vars and expected answer are one case: they must agree on its
    transform and threshold, which the case's every check shares."""
    first: dict[tuple[str, str | None], TestDoc] = {}
    problems = []
    for test in doc.tests:
        earlier = first.setdefault((canonical_json(test.vars), test.expected), test)
        if earlier is not test and (earlier.grading, earlier.params) != (
            test.grading,
            test.params,
        ):
            path, _, line = test.where.rpartition(":")
            problems.append(
                FileProblem(
                    path or doc.path,
                    int(line) if line.isdigit() else 1,
                    f"this test has the same vars as the one at {earlier.where}, so it is the same"
                    " case, but its transform or threshold differs (or its tools): give them"
                    " other vars or the same rule",
                )
            )
    return problems


def _check_references(store: Store, doc: SuiteDoc) -> list[FileProblem]:
    db = store.read()
    problems = []
    for item in doc.prompts:
        if isinstance(item, PromptRef):
            try:
                prompts_repo.resolve_version(db, item.name, item.ref)
            except LookupError as error:
                problems.append(FileProblem(doc.path, item.line, str(error.args[0])))
        else:
            try:
                reconcile_variables(item.sections, item.variables, "untrusted")
            except TemplateError as error:
                problems.append(FileProblem(doc.path, item.line, f"prompt {item.name!r}: {error}"))
    if doc.dataset is not None and datasets.dataset_id(db, doc.dataset) is None:
        problems.append(
            FileProblem(doc.path, doc.dataset_line, f"no dataset named {doc.dataset!r}")
        )
    return problems


def _pairwise_baseline(store: Store, doc: SuiteDoc) -> tuple[int | None, str | None]:
    """The pairwise baseline as (index into the suite's prompts, model); ValueError when it
    names neither one of the suite's prompts nor one of its models."""
    baseline = doc.pairwise["baseline"]
    if isinstance(baseline, str):
        index = _prompt_index(doc.prompts, baseline)
        if index is not None:
            return index, None
        prompt, model = "", baseline
    else:
        prompt, model = baseline.get("prompt", ""), baseline.get("model", "")
    index = None
    if prompt:
        index = _prompt_index(doc.prompts, prompt)
        if index is None:
            names = ", ".join(_prompt_names(doc.prompts))
            raise ValueError(f"pairwise baseline {prompt!r} is not one of the prompts ({names})")
    if model:
        models = _suite_models(store, doc)
        if model not in models:
            prompts = ", ".join(_prompt_names(doc.prompts))
            raise ValueError(
                f"pairwise baseline {model!r} is neither one of the models"
                f" ({', '.join(models) or 'none named'}) nor one of the prompts ({prompts})"
            )
    return index, model or None


def _prompt_names(prompts: Sequence[PromptRef | InlinePrompt]) -> list[str]:
    return [str(item) if isinstance(item, PromptRef) else item.name for item in prompts]


def _prompt_index(prompts: Sequence[PromptRef | InlinePrompt], name: str) -> int | None:
    """The prompt `name` stands for: name@ref exactly, or a name only one prompt has."""
    exact = [
        i for i, item in enumerate(prompts) if isinstance(item, PromptRef) and str(item) == name
    ]
    if exact:
        return exact[0]
    named = [i for i, item in enumerate(prompts) if item.name == name]
    if len(named) > 1:
        raise ValueError(f"pairwise baseline {name!r} is ambiguous: give name@version")
    return named[0] if named else None


def _suite_models(store: Store, doc: SuiteDoc) -> list[str]:
    if doc.models:
        return list(doc.models)
    db = store.read()
    models = []
    for item in doc.prompts:
        model = (
            prompts_repo.resolve_version(db, item.name, item.ref).model
            if isinstance(item, PromptRef)
            else item.model
        )
        if model and model not in models:
            models.append(model)
    return models


def _pairwise_data(
    doc: SuiteDoc, baseline: tuple[int | None, str | None], version_ids: Sequence[int]
) -> dict[str, Any]:
    if not doc.pairwise:
        return {}
    index, model = baseline
    raw = doc.pairwise["baseline"]
    return PairwiseConfig(
        baseline=raw if isinstance(raw, str) else " × ".join(v for v in raw.values() if v),
        baseline_version_id=None if index is None else version_ids[index],
        baseline_model=model,
        criteria=doc.pairwise.get("criteria") or DEFAULT_CRITERIA,
    ).to_data()


def _save_inline(db: Any, prompt: InlinePrompt, source: str) -> tuple[int, bool]:
    """The prompt's latest version when it says the same, else a new version."""
    variables = reconcile_variables(prompt.sections, prompt.variables, "untrusted")
    draft = Draft(prompt.sections, variables, prompt.model, prompt.params)
    existing = prompts_repo.get_prompt(db, prompt.name)
    if existing is None:
        prompt_id = prompts_repo.create_prompt(db, prompt.name, description=f"from {source}")
        latest: PromptVersion | None = None
    else:
        prompt_id = existing.id
        versions = prompts_repo.list_versions(db, prompt_id)
        latest = max(versions, key=lambda version: version.version) if versions else None
    if latest is not None and draft.same_content_as(latest):
        return latest.id, False
    version_id = prompts_repo.add_version(
        db,
        prompt_id,
        {name: text for name, text in prompt.sections.items() if text.strip()},
        variables=variables,
        model=prompt.model,
        params=prompt.params,
        author=AUTHOR,
        message=f"from the eval suite {source}",
        parent_id=latest.id if latest else None,
    )
    return version_id, True


def _save_tests(db: Any, name: str, tests: Sequence[TestDoc]) -> tuple[list[int], int]:
    """The case id of every test, adding the tests the dataset does not hold yet."""
    dataset = datasets.dataset_id(db, name)
    if dataset is None:
        dataset = datasets.create_dataset(db, name, description="cases of an eval suite")
    known = dataset_case_keys(db, dataset)
    ids = []
    added = 0
    for test in tests:
        key = (canonical_json(test.vars), test.expected)
        if key not in known:
            known[key] = datasets.add_case(
                db,
                dataset,
                datasets.NewCase(test.vars, test.expected, test.tags, source="import"),
            )
            added += 1
        ids.append(known[key])
    return ids, added


def _labels(store: Store, version_ids: Sequence[int]) -> dict[int, str]:
    db = store.read()
    labels = {}
    for version_id in version_ids:
        version = prompts_repo.get_version(db, version_id)
        if version is None:
            continue
        prompt = prompts_repo.get_prompt_by_id(db, version.prompt_id)
        labels[version_id] = f"{prompt.name if prompt else '?'}@{version.version}"
    return labels
