"""promptfoo's `select-best`: once a run's cells are done, the judge model is shown every
output of one case (and repeat), across the run's prompt versions and models, and picks the one
that best meets the check's criterion. The chosen cell's `select-best` check passes (score 1)
and the others' fail (score 0), so the check decides the cells' pass as any check does.

A case with fewer than two answered cells, or whose judge fails or answers junk twice, gets a
`select-best` check without a verdict whose detail starts with "error:"; `--resume` judges only
the cases without a verdict, and a verdict replaces the error.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence

from llmbench.core.evaluation.check_spec import CheckSpec
from llmbench.core.evaluation.graders import parse_select_best, select_best_messages
from llmbench.core.evaluation.scoreboard import CellRecord
from llmbench.core.prompts.templates import TemplateError, render_section
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.services.evaluation.cell_grading import JUDGE_TAGS, JudgeConfig
from llmbench.services.evaluation.cells import Cell
from llmbench.services.evaluation.judge_calls import JudgeFailure, ask_judge
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import (
    cell_records,
    replace_result_check,
    scored_check_results,
)
from llmbench.store.evaluation.runs import NewCheck

SELECT_BEST_KIND = "select-best"
GroupKey = tuple[int | None, int]  # case id, repeat


def select_best_groups(cells: Sequence[Cell]) -> dict[GroupKey, tuple[CheckSpec, ...]]:
    """The select-best checks of each case (and repeat) that has any."""
    groups: dict[GroupKey, tuple[CheckSpec, ...]] = {}
    for cell in cells:
        specs = tuple(spec for spec in cell.checks if getattr(spec, "kind", "") == SELECT_BEST_KIND)
        if specs:
            key = (cell.case_id, cell.repeat)
            groups[key] = tuple(dict.fromkeys(groups.get(key, ()) + specs))
    return groups


def judge_select_best(
    store: Store,
    gateway: Gateway,
    run_id: int,
    cells: Sequence[Cell],
    judge: JudgeConfig,
    *,
    concurrency: int,
    cancelled: Callable[[], bool] | None = None,
) -> bool:
    """Judge every case with a select-best check and no verdict yet; False when cancelled."""
    groups = select_best_groups(cells)
    if not groups:
        return True
    values = {(cell.case_id, cell.repeat): dict(cell.values) for cell in cells}
    records: dict[GroupKey, list[CellRecord]] = defaultdict(list)
    for record in cell_records(store.read(), run_id):
        records[(record.case_id, record.repeat)].append(record)
    judged = scored_check_results(store.read(), run_id, SELECT_BEST_KIND)
    todo = [
        (key, spec)
        for key, specs in groups.items()
        for spec in specs
        if not any(record.result_id in judged for record in records.get(key, ()) if record.ok)
    ]
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(key: GroupKey, spec: CheckSpec) -> None:
        async with limit:
            if cancelled is not None and cancelled():
                return
            checks = await _judge_group(
                gateway, run_id, judge, spec, records.get(key, []), values.get(key, {})
            )
        await asyncio.wrap_future(
            store.submit(lambda db: [replace_result_check(db, check) for check in checks])
        )

    async def every() -> None:
        await asyncio.gather(*(one(key, spec) for key, spec in todo))

    run_sync(every())
    return cancelled is None or not cancelled()


async def _judge_group(
    gateway: Gateway,
    run_id: int,
    judge: JudgeConfig,
    spec: CheckSpec,
    records: Sequence[CellRecord],
    values: dict[str, object],
) -> list[NewCheck]:
    answered = [record for record in records if record.ok]
    if len(answered) < 2:
        return _errors(answered, "select-best needs at least two answered outputs of the case")
    criterion = str(spec.value)
    try:
        if "{{" in criterion or "{%" in criterion:
            criterion = render_section("value", criterion, values)
    except TemplateError as error:
        return _errors(answered, f"cannot render the criterion: {error}")
    outputs = [record.output for record in answered]
    verdict = await ask_judge(
        gateway,
        judge.model,
        select_best_messages(criterion, outputs),
        lambda reply: parse_select_best(reply, len(outputs)),
        params=judge.params,
        tags={**JUDGE_TAGS, "judge": SELECT_BEST_KIND},
        run_id=run_id,
    )
    if isinstance(verdict, JudgeFailure):
        return _errors(answered, verdict.reason)
    best, reason = verdict
    return [
        NewCheck(
            kind=SELECT_BEST_KIND,
            passed=index == best,
            score=float(index == best),
            detail=(
                f"selected as the best of {len(outputs)}: {criterion}"
                if index == best
                else f"not selected ({answered[best].version_label or '?'} × "
                f"{answered[best].model} was): {criterion}"
            )
            + (f" ({reason})" if reason else ""),
            weight=spec.weight,
            result_id=record.result_id,
        )
        for index, record in enumerate(answered)
    ]


def _errors(records: Sequence[CellRecord], reason: str) -> list[NewCheck]:
    return [
        NewCheck(SELECT_BEST_KIND, None, None, f"error: {reason}", 0.0, result_id=record.result_id)
        for record in records
    ]
