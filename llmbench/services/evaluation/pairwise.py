"""The pairwise judge of an evaluation run: once its cells are done, the judge model compares,
case by case, each candidate group's output with the baseline group's output for the same case
(and repeat), and the verdict is stored on the candidate's result.

A suite names the baseline as one of its models or one of its prompt versions. A model baseline
pairs each (version, model) group with (same version, baseline model); a version baseline pairs
it with (baseline version, same model); both together name one group that every other group is
set against.

Position bias is cancelled by showing the candidate first (as A) for about half the cases: the
coin is `core.judge.order_for` on a seed of the run id, case and repeat, so a resumed run shows
each pair in the order it would have had. The verdict is a `pairwise` check on the candidate's
result: score 1 (win), 0.5 (tie) or 0 (loss), no pass/fail (it never fails a cell), and a detail
with the reason and which side was shown first. A judge that fails, or answers junk twice (one
repair retry, as the rubric judge has), leaves a `pairwise` check with no score whose detail
starts with "error:"; the run goes on. Resuming judges only the pairs without a verdict, and
a verdict replaces the error it retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.core.evaluation.judge import (
    Preference,
    order_for,
    pairwise_messages,
    parse_pairwise,
    unswap,
)
from llmbench.core.evaluation.scoreboard import CellRecord
from llmbench.core.prompts.templates import TemplateError, render_messages
from llmbench.core.tokens import count_tokens
from llmbench.gateway.client import run_sync
from llmbench.gateway.engine import Gateway
from llmbench.services.evaluation.cell_grading import JudgeConfig
from llmbench.services.evaluation.cells import Cell
from llmbench.services.evaluation.judge_calls import JudgeFailure, ask_judge
from llmbench.store.db import Store
from llmbench.store.evaluation.run_cells import (
    cell_records,
    replace_result_check,
    scored_check_results,
)
from llmbench.store.evaluation.runs import NewCheck

PAIRWISE_KIND = "pairwise"
PAIRWISE_TAGS = {"run": "eval-judge", "judge": "pairwise"}
DEFAULT_CRITERIA = (
    "Which response better does what the input asks: correct, complete, clear, and no longer "
    "than it needs to be?"
)
SCORES: dict[Preference, float] = {"b": 1.0, "tie": 0.5, "a": 0.0}
OUTCOMES: dict[Preference, str] = {"b": "win", "tie": "tie", "a": "loss"}

GroupKey = tuple[int | None, str]  # version id, model
PairKey = tuple[int | None, str, int | None, int]  # version id, model, case id, repeat


class PairwiseConfigError(ValueError):
    """The pairwise options cannot be used; the message says why."""


@dataclass(frozen=True)
class PairwiseConfig:
    """What a run's plan saves under "pairwise"."""

    baseline: str  # as the suite wrote it, for messages
    baseline_version_id: int | None = None
    baseline_model: str | None = None
    criteria: str = DEFAULT_CRITERIA

    def to_data(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "baseline_version_id": self.baseline_version_id,
            "baseline_model": self.baseline_model,
            "criteria": self.criteria,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PairwiseConfig:
        version_id = data.get("baseline_version_id")
        model = data.get("baseline_model")
        if version_id is None and not model:
            raise PairwiseConfigError("the pairwise judge needs a baseline version or model")
        criteria = str(data.get("criteria") or "").strip() or DEFAULT_CRITERIA
        return cls(
            baseline=str(data.get("baseline") or model or version_id),
            baseline_version_id=None if version_id is None else int(version_id),
            baseline_model=str(model) if model else None,
            criteria=criteria,
        )

    def baseline_of(self, group: GroupKey) -> GroupKey:
        """The group a candidate group is set against (itself when it is a baseline)."""
        version_id, model = group
        return (
            version_id if self.baseline_version_id is None else self.baseline_version_id,
            model if self.baseline_model is None else self.baseline_model,
        )


@dataclass(frozen=True)
class PairwiseSummary:
    pairs: int  # pairs the run has (both sides answered)
    judged: int  # verdicts written this time
    errors: int  # error checks written this time
    skipped: int  # pairs that already had a verdict
    complete: bool  # no pair was left for a cancel


@dataclass(frozen=True)
class Pair:
    candidate: CellRecord
    baseline: CellRecord
    input_text: str
    swapped: bool  # the candidate is shown first, as A


def order_seed(run_id: int, case_id: int | None, repeat: int) -> str:
    return f"pairwise:{run_id}:{case_id}:{repeat}"


def plan_pairs(
    run_id: int,
    config: PairwiseConfig,
    records: Sequence[CellRecord],
    cells: Sequence[Cell],
) -> list[Pair]:
    """Every candidate cell with its baseline cell, both answered, in the run's order."""
    by_key: dict[PairKey, CellRecord] = {
        (record.version_id, record.model, record.case_id, record.repeat): record
        for record in records
    }
    planned = {cell.key: cell for cell in cells}
    pairs = []
    for record in records:
        group = (record.version_id, record.model)
        baseline_group = config.baseline_of(group)
        if baseline_group == group or not record.ok:
            continue
        baseline = by_key.get((*baseline_group, record.case_id, record.repeat))
        if baseline is None or not baseline.ok:
            continue
        swapped = order_for(order_seed(run_id, record.case_id, record.repeat))
        text = _input_text(
            planned.get((record.version_id, record.model, record.case_id, record.repeat)),
            same_prompt=record.version_id == baseline.version_id,
        )
        pairs.append(Pair(record, baseline, text, swapped))
    return pairs


def _input_text(cell: Cell | None, *, same_prompt: bool) -> str:
    """What both sides were asked: the rendered prompt when they share it, else the case's
    variables (each side's own prompt differs, the case is what they have in common)."""
    if cell is None:
        return ""
    if same_prompt and not isinstance(cell.template, TemplateError):
        try:
            messages = render_messages(
                cell.template, cell.values, count=lambda text: count_tokens(text, cell.model)
            )
        except TemplateError:
            pass
        else:
            return "\n\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in messages)
    return "\n".join(f"{name}: {value}" for name, value in cell.values.items())


def judge_pairs(
    store: Store,
    gateway: Gateway,
    run_id: int,
    cells: Sequence[Cell],
    config: PairwiseConfig,
    judge: JudgeConfig,
    *,
    concurrency: int,
    cancelled: Callable[[], bool] | None = None,
) -> PairwiseSummary:
    """Judge the run's pairs that have no verdict yet (blocking: runs on the gateway's loop)."""
    db = store.read()
    records = cell_records(db, run_id)
    pairs = plan_pairs(run_id, config, records, cells)
    done = scored_check_results(db, run_id, PAIRWISE_KIND)
    todo = [pair for pair in pairs if pair.candidate.result_id not in done]
    judge_run = _PairJudge(store, gateway, run_id, config, judge, cancelled)
    written = run_sync(judge_run.run(todo, max(1, concurrency)))
    gateway.recorder.flush()
    judged = sum(check.score is not None for check in written)
    return PairwiseSummary(
        pairs=len(pairs),
        judged=judged,
        errors=len(written) - judged,
        skipped=len(pairs) - len(todo),
        complete=len(written) == len(todo),
    )


class _PairJudge:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        run_id: int,
        config: PairwiseConfig,
        judge: JudgeConfig,
        cancelled: Callable[[], bool] | None,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.run_id = run_id
        self.config = config
        self.judge = judge
        self.cancelled = cancelled

    async def run(self, pairs: Sequence[Pair], concurrency: int) -> list[NewCheck]:
        limit = asyncio.Semaphore(concurrency)
        written: list[NewCheck] = []

        async def one(pair: Pair) -> None:
            async with limit:
                if self.cancelled is not None and self.cancelled():
                    return
                check = await self.verdict(pair)
                # Written as soon as judged: a cancel or a crash keeps every verdict so far.
                await asyncio.wrap_future(
                    self.store.submit(lambda db: replace_result_check(db, check))
                )
                written.append(check)

        await asyncio.gather(*(one(pair) for pair in pairs))
        return written

    async def verdict(self, pair: Pair) -> NewCheck:
        candidate, baseline = pair.candidate.output, pair.baseline.output
        first, second = (candidate, baseline) if pair.swapped else (baseline, candidate)
        shown = "candidate shown first (A)" if pair.swapped else "baseline shown first (A)"
        against = f"vs {_group_name(pair.baseline)}"
        messages = pairwise_messages(pair.input_text, first, second, criteria=self.config.criteria)
        verdict = await ask_judge(
            self.gateway,
            self.judge.model,
            messages,
            parse_pairwise,
            params=self.judge.params,
            tags=PAIRWISE_TAGS,
            run_id=self.run_id,
        )
        if isinstance(verdict, JudgeFailure):
            return self._check(pair, None, f"error: {verdict.reason}; {shown}")
        # In the pair's own order the baseline is "a" and the candidate "b".
        preference = unswap(verdict.preference, pair.swapped)
        reason = verdict.reason or "no reason given"
        detail = f"{OUTCOMES[preference]} {against}: {reason} ({shown})"
        return self._check(pair, SCORES[preference], detail)

    def _check(self, pair: Pair, score: float | None, detail: str) -> NewCheck:
        return NewCheck(
            kind=PAIRWISE_KIND,
            passed=None,
            score=score,
            detail=detail,
            weight=0.0,
            result_id=pair.candidate.result_id,
        )


def _group_name(record: CellRecord) -> str:
    return f"{record.version_label or 'draft'} × {record.model}"


def judge_run_pairs(
    store: Store,
    gateway: Gateway,
    run_id: int,
    cells: Sequence[Cell],
    data: Mapping[str, Any],
    judge: JudgeConfig,
    *,
    concurrency: int,
    cancelled: Callable[[], bool] | None = None,
) -> bool:
    """The evaluation engine's step after the cells: judge the pairs of the plan's saved
    pairwise options. True when no pair was left for a cancel."""
    config = PairwiseConfig.from_data(data)
    summary = judge_pairs(
        store,
        gateway,
        run_id,
        cells,
        config,
        judge,
        concurrency=concurrency,
        cancelled=cancelled,
    )
    return summary.complete
