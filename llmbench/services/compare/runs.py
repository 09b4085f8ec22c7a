"""Comparisons started from the Compare pane: what can be picked (versions, models, datasets),
a new run from the picks, and running or resuming it with a board that shows it live.

A comparison is an ordinary evaluation run (services.evaluation): its plan is saved when it is
created, so a cancelled or killed comparison resumes with only its missing cells, from the
pane or from `llmbench eval --resume`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.config import Settings
from llmbench.services.compare.board import RunBoard
from llmbench.services.compare.draft_run import DraftComparison, is_draft_run, run_draft
from llmbench.services.evaluation.engine import (
    EvalError,
    EvalPlan,
    RunSummary,
    create_eval_run,
    resume,
)
from llmbench.store import datasets as datasets_repo
from llmbench.store.db import Store
from llmbench.store.evaluation.compare_cells import (
    DatasetChoice,
    VersionChoice,
    dataset_choices,
    recent_models,
    stored_cells,
    version_choices,
)
from llmbench.store.evaluation.run_cells import run_plan

# A comparison's cells in flight at once; the gateway's per-model limits apply on top.
CONCURRENCY = 8
ADHOC_DATASET = "ad-hoc inputs"
MAX_REPEATS = 20


@dataclass(frozen=True)
class Choices:
    versions: list[VersionChoice]
    models: list[str]  # the configured defaults first, then what recent runs used
    datasets: list[DatasetChoice]

    def dataset_for(self, version_id: int) -> DatasetChoice | None:
        """The first dataset whose cases fill in every variable of the version."""
        version = next((choice for choice in self.versions if choice.id == version_id), None)
        if version is None:
            return None
        return next(
            (
                dataset
                for dataset in self.datasets
                if dataset.cases and version.variables <= dataset.variables
            ),
            None,
        )


@dataclass(frozen=True)
class Picks:
    version_ids: tuple[int, ...]
    models: tuple[str, ...]
    dataset_id: int | None = None
    adhoc: Mapping[str, str] | None = None  # one input instead of a dataset
    repeats: int = 1
    name: str = ""
    concurrency: int = CONCURRENCY


def choices(store: Store, settings: Settings) -> Choices:
    db = store.read()
    versions = version_choices(db)
    models = list(settings.models.default_models)
    models += [version.model for version in versions if version.model]
    models += recent_models(db)
    return Choices(versions, list(dict.fromkeys(models)), dataset_choices(db))


def parse_adhoc(text: str) -> dict[str, str]:
    """`name=value` pairs, one per line or separated by `;`; a bare text is `input`."""
    text = text.strip()
    if not text:
        return {}
    if "=" not in text:
        return {"input": text}
    values: dict[str, str] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise EvalError(f"{part.strip()!r}: write the input as name=value")
        values[name.strip()] = value.strip()
    return values


def new_comparison(store: Store, picks: Picks) -> int:
    """Save the comparison as a pending run and return its id; nothing runs yet."""
    if not picks.models:
        raise EvalError("pick at least one model")
    if not 1 <= picks.repeats <= MAX_REPEATS:
        raise EvalError(f"repeat must be between 1 and {MAX_REPEATS}")
    case_ids = _case_ids(store, picks)
    plan = EvalPlan(
        name=picks.name or _default_name(store, picks),
        version_ids=picks.version_ids,
        case_ids=tuple(case_ids),
        models=picks.models,
        repeats=picks.repeats,
        concurrency=picks.concurrency,
        source="compare pane",
    )
    return create_eval_run(store, plan)


def run_comparison(
    store: Store,
    settings: Settings,
    board: RunBoard,
    *,
    cancelled: Callable[[], bool],
) -> RunSummary | DraftComparison:
    """Run (or resume) the board's run, streaming into the board. Blocking: a thread worker's.
    A comparison of the editor's draft runs its own cells (the draft has no version)."""
    try:
        plan = run_plan(store.read(), board.run_id)
        if plan is not None and is_draft_run(plan.config):
            return run_draft(store, settings, board.run_id, cancelled=cancelled, watcher=board)
        return resume(store, settings, board.run_id, cancelled=cancelled, watcher=board)
    finally:
        board.settle(stored_cells(store.read(), board.run_id))


def _case_ids(store: Store, picks: Picks) -> Sequence[int]:
    if picks.adhoc is not None:
        if not picks.adhoc:
            raise EvalError("type an input, or pick a dataset")
        values = dict(picks.adhoc)

        def add(db: Any) -> int:
            dataset = datasets_repo.dataset_id(db, ADHOC_DATASET)
            if dataset is None:
                dataset = datasets_repo.create_dataset(
                    db, ADHOC_DATASET, description="Inputs typed into the Compare pane"
                )
            return datasets_repo.add_case(db, dataset, datasets_repo.NewCase(vars=values))

        return [store.write(add)]
    if picks.dataset_id is None:
        raise EvalError("pick a dataset, or type an input")
    cases = datasets_repo.list_cases(store.read(), picks.dataset_id)
    if not cases:
        raise EvalError("that dataset has no cases yet")
    return [case.id for case in cases]


def _default_name(store: Store, picks: Picks) -> str:
    versions = {version.id: version for version in version_choices(store.read())}
    sides = [
        f"{versions[version_id].prompt}@{versions[version_id].version}"
        for version_id in picks.version_ids
        if version_id in versions
    ]
    return f"{' vs '.join(sides) or 'comparison'} × {len(picks.models)} model(s)"
