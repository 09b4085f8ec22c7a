"""A dataset of production inputs for a prompt with none (or on request): its production
version's recent answered calls read back into variables (core/optimize/inputs.py), secrets
redacted, deduplicated, each checked by the shape of the answers, saved as a dataset named
after the prompt so the candidate's run (and the next) uses it."""

from __future__ import annotations

from typing import Any

from llmbench.core.models import Case
from llmbench.core.optimize.answers import answer_shape
from llmbench.core.optimize.inputs import input_matcher, sample_cases
from llmbench.services.optimize.candidates import Found, OptimizeError
from llmbench.store import datasets as datasets_repo
from llmbench.store import optimizations as repo
from llmbench.store.db import Store

SAMPLE = 50  # cases: enough for a pass rate's interval, few enough to run in a minute
READ = 2000  # newest calls read to find them (repeats and unmatched calls are skipped)


def dataset_name(found: Found) -> str:
    return f"{found.prompt.name} production {found.until[:10]}"


def production_dataset(store: Store, found: Found, size: int = SAMPLE) -> tuple[int, list[Case]]:
    """The prompt's dataset of production inputs up to the window's end day: made from the
    production version's recent calls the first time it is asked for that day, then reused."""
    name = dataset_name(found)
    known = datasets_repo.dataset_id(store.read(), name)
    if known is not None:
        return known, datasets_repo.list_cases(store.read(), known)
    calls = repo.recent_answered(store.read(), found.version.id, found.since, found.until, READ)
    sampled = sample_cases(
        calls, input_matcher(found.version), answer_shape(found.usage.answers), size
    )
    if not sampled:
        raise OptimizeError(
            f"no call of {found.prompt.name} v{found.version.version} could be read back into"
            " its variables"
        )
    new_cases = [
        datasets_repo.NewCase(
            case.vars,
            expected=case.answer,
            tags=case.tags,
            source="promoted-from-call",
            source_call_id=case.call_id,
            checks=case.checks,
        )
        for case in sampled
    ]
    description = f"{len(sampled)} production inputs of v{found.version.version}, deduplicated"

    def job(db: Any) -> int:  # the writer's connection
        made = datasets_repo.create_dataset(db, name, description=description)
        datasets_repo.add_cases(db, made, new_cases)
        return made

    dataset_id = store.write(job)
    return dataset_id, datasets_repo.list_cases(store.read(), dataset_id)
