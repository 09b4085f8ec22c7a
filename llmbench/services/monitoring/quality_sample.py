"""`llmbench monitor sample`: run a suite's deterministic checks and its judge rubrics on a
sample of a prompt's production calls, so quality over time (F7, drift detection) has more than
eval runs to go on.

The sample is chosen by a hash of each call's request id, not by a random draw: rerunning with
the same rate picks the same calls, and a call already checked is never checked twice. Checks
that need what production calls do not have — a test case's expected answer or variables (a
template) — are skipped and counted. The judge (`production_judge.py`) runs the suite's `judge`
checks, or the production rubrics when the suite has none, unless it is turned off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llmbench.config import Settings
from llmbench.core.evaluation.check_runner import aggregate, run_check
from llmbench.core.evaluation.check_spec import (
    ENGINE_KINDS,
    JUDGE_KIND,
    CheckContext,
    CheckResult,
    CheckSpec,
)
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import InlinePrompt, PromptRef
from llmbench.services.evaluation.cell_grading import parse_checks
from llmbench.services.monitoring.production_judge import (
    Judged,
    ProductionJudge,
    judge_calls,
    production_judge,
)
from llmbench.store import monitor as monitor_repo
from llmbench.store.db import Store
from llmbench.store.evaluation.runs import NewCheck, add_checks
from llmbench.store.monitor import ProductionCall
from llmbench.store.views import to_iso

# Kinds that compare against the golden answer, which production calls do not have.
NEEDS_EXPECTED = frozenset({"equals", "similar"})


class SampleError(ValueError):
    """The suite cannot be used for this prompt; the message says why."""


def in_sample(request_id: str, rate: float) -> bool:
    """Stable membership: the same request is in or out at a given rate, run after run."""
    digest = hashlib.sha256(request_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


@dataclass(frozen=True)
class Runnable:
    checks: tuple[CheckSpec, ...]
    """Deterministic checks, run here."""
    skipped: tuple[str, ...]  # kinds left out, with why
    judged: tuple[CheckSpec, ...] = ()
    """The suite's `judge` checks, asked of the judge model."""


def runnable_checks(specs: tuple[CheckSpec, ...], *, judge: bool = True) -> Runnable:
    kept, skipped, judged = [], [], []
    for spec in specs:
        if spec.kind in NEEDS_EXPECTED:
            skipped.append(f"{spec.kind} (needs an expected answer)")
        elif "{{" in repr(spec.value):
            skipped.append(f"{spec.kind} (a template over a test case's variables)")
        elif spec.kind == JUDGE_KIND:
            if judge:
                judged.append(spec)
            else:
                skipped.append(f"{spec.kind} (the judge is turned off)")
        elif spec.kind in ENGINE_KINDS:
            skipped.append(f"{spec.kind} (graded by an evaluation run only)")
        else:
            kept.append(spec)
    return Runnable(tuple(kept), tuple(skipped), tuple(judged))


@dataclass(frozen=True)
class SampleOutcome:
    candidates: int
    """Unchecked production calls of the prompt in the window."""
    sampled: int
    passed: int
    checks_written: int
    skipped: tuple[str, ...]
    judge_model: str = ""
    """The judge asked, or '' when the judge did not run."""
    judged: int = 0
    """Judge verdicts written."""
    judge_failures: int = 0
    """Judge checks recorded without a verdict (the judge failed); the sample went on."""
    judge_score: float | None = None
    """Mean judge score (0..1) of the verdicts."""

    graded: int = 0
    """Sampled calls with at least one verdict (all of them unless every judge failed)."""

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class _Suite:
    checks: tuple[CheckSpec, ...]
    judge_model: str
    judge_dimensions: tuple[dict[str, object], ...]
    judge_params: dict[str, object]


def _suite(suite: Path, prompt: str) -> _Suite:
    doc = load_suite(suite)
    names = {item.name for item in doc.prompts if isinstance(item, PromptRef | InlinePrompt)}
    if prompt not in names:
        listed = ", ".join(sorted(names)) or "none"
        raise SampleError(f"{suite} does not test prompt {prompt!r} (it tests: {listed})")
    return _Suite(
        parse_checks(doc.checks, "suite"),
        doc.judge_model,
        tuple(dict(item) for item in doc.judge_dimensions),
        dict(doc.judge_params),
    )


def _grade(
    call: ProductionCall, checks: tuple[CheckSpec, ...], judged: list[Judged]
) -> tuple[bool | None, list[NewCheck]]:
    """The call's deterministic results and judge verdicts (a failed judge, no verdict: it
    neither passes nor fails the call) as one outcome (None without any verdict) and its
    check rows."""
    context = CheckContext(latency_ms=call.latency_ms, cost=call.cost, model=call.model)
    results: list[CheckResult] = [run_check(spec, call.response, context) for spec in checks]
    results += [item.result for item in judged if item.result is not None]
    passed: bool | None = aggregate(results)[0] if results else None
    rows = [
        NewCheck(
            kind=result.kind,
            passed=result.passed,
            score=result.score,
            detail=f"monitor sample: {result.detail}",
            weight=result.weight,
            call_id=call.id,
        )
        for result in results
    ]
    rows += [
        NewCheck(
            kind=item.spec.kind,
            passed=None,
            score=None,
            detail=f"monitor sample: error: {item.failure}",
            weight=item.spec.weight,
            call_id=call.id,
        )
        for item in judged
        if item.result is None
    ]
    return passed, rows


def sample_production(
    store: Store,
    prompt: str,
    suite: Path,
    *,
    rate: float,
    days: int = 7,
    now: datetime | None = None,
    settings: Settings | None = None,
    judge: bool = True,
) -> SampleOutcome:
    """Check a `rate` share of the prompt's unchecked production calls of the last `days`:
    the suite's deterministic checks, and (unless `judge` is False) its judge rubrics through
    the gateway with `settings` (the defaults when None)."""
    if not 0 < rate <= 1:
        raise SampleError(f"the rate is a share in (0, 1], not {rate}")
    settings = settings if settings is not None else Settings()
    read = _suite(suite, prompt)
    runnable = runnable_checks(read.checks, judge=judge)
    judging: ProductionJudge | None = None
    if judge:
        judging = production_judge(
            runnable.judged,
            suite_model=read.judge_model,
            suite_dimensions=read.judge_dimensions,
            suite_params=read.judge_params,
            settings=settings,
        )
    if not runnable.checks and judging is None:
        raise SampleError(
            f"{suite} has no suite-level check that runs on production calls"
            + (f" (skipped: {', '.join(runnable.skipped)})" if runnable.skipped else "")
        )
    end = now if now is not None else datetime.now(UTC)
    calls = monitor_repo.unchecked_production_calls(
        store.read(), prompt, to_iso(end - timedelta(days=days)), to_iso(end)
    )
    chosen = [call for call in calls if in_sample(call.request_id, rate)]
    verdicts = judge_calls(store, settings, judging, chosen) if judging else []
    by_call: dict[int, list[Judged]] = {}
    for item in verdicts:
        by_call.setdefault(item.call_id, []).append(item)
    graded = [_grade(call, runnable.checks, by_call.get(call.id, [])) for call in chosen]
    rows = [row for _passed, call_rows in graded for row in call_rows]
    if rows:
        store.write(lambda db: add_checks(db, rows))
    scores = [item.result.score for item in verdicts if item.result is not None]
    return SampleOutcome(
        candidates=len(calls),
        sampled=len(chosen),
        passed=sum(passed is True for passed, _rows in graded),
        graded=sum(passed is not None for passed, _rows in graded),
        checks_written=len(rows),
        skipped=runnable.skipped,
        judge_model=judging.model if judging else "",
        judged=len(scores),
        judge_failures=len(verdicts) - len(scores),
        judge_score=sum(scores) / len(scores) if scores else None,
    )
