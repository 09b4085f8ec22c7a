"""`llmbench monitor sample`: run a suite's deterministic checks on a sample of a prompt's
production calls, so quality over time (F7, drift detection) has more than eval runs to go on.

The sample is chosen by a hash of each call's request id, not by a random draw: rerunning with
the same rate picks the same calls, and a call already checked is never checked twice. Checks
that need what production calls do not have — a test case's expected answer or variables (a
template), or a judge model — are skipped and counted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llmbench.core.evaluation.check_runner import aggregate, run_check
from llmbench.core.evaluation.check_spec import JUDGE_KIND, CheckContext, CheckSpec
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import InlinePrompt, PromptRef
from llmbench.services.evaluation.cell_grading import parse_checks
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
    skipped: tuple[str, ...]  # kinds left out, with why


def runnable_checks(specs: tuple[CheckSpec, ...]) -> Runnable:
    kept, skipped = [], []
    for spec in specs:
        if spec.kind == JUDGE_KIND:
            skipped.append(f"{spec.kind} (needs the judge model)")
        elif spec.kind in NEEDS_EXPECTED:
            skipped.append(f"{spec.kind} (needs an expected answer)")
        elif "{{" in repr(spec.value):
            skipped.append(f"{spec.kind} (a template over a test case's variables)")
        else:
            kept.append(spec)
    return Runnable(tuple(kept), tuple(skipped))


@dataclass(frozen=True)
class SampleOutcome:
    candidates: int
    """Unchecked production calls of the prompt in the window."""
    sampled: int
    passed: int
    checks_written: int
    skipped: tuple[str, ...]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.sampled if self.sampled else None


def _suite_checks(suite: Path, prompt: str) -> tuple[CheckSpec, ...]:
    doc = load_suite(suite)
    names = {item.name for item in doc.prompts if isinstance(item, PromptRef | InlinePrompt)}
    if prompt not in names:
        listed = ", ".join(sorted(names)) or "none"
        raise SampleError(f"{suite} does not test prompt {prompt!r} (it tests: {listed})")
    return parse_checks(doc.checks, "suite")


def _grade(call: ProductionCall, checks: tuple[CheckSpec, ...]) -> tuple[bool, list[NewCheck]]:
    context = CheckContext(latency_ms=call.latency_ms, cost=call.cost, model=call.model)
    results = [run_check(spec, call.response, context) for spec in checks]
    passed, _score = aggregate(results)
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
    return passed, rows


def sample_production(
    store: Store,
    prompt: str,
    suite: Path,
    *,
    rate: float,
    days: int = 7,
    now: datetime | None = None,
) -> SampleOutcome:
    """Check a `rate` share of the prompt's unchecked production calls of the last `days`."""
    if not 0 < rate <= 1:
        raise SampleError(f"the rate is a share in (0, 1], not {rate}")
    runnable = runnable_checks(_suite_checks(suite, prompt))
    if not runnable.checks:
        raise SampleError(
            f"{suite} has no suite-level check that runs on production calls"
            + (f" (skipped: {', '.join(runnable.skipped)})" if runnable.skipped else "")
        )
    end = now if now is not None else datetime.now(UTC)
    calls = monitor_repo.unchecked_production_calls(
        store.read(), prompt, to_iso(end - timedelta(days=days)), to_iso(end)
    )
    chosen = [call for call in calls if in_sample(call.request_id, rate)]
    graded = [_grade(call, runnable.checks) for call in chosen]
    rows = [row for _passed, call_rows in graded for row in call_rows]
    if rows:
        store.write(lambda db: add_checks(db, rows))
    return SampleOutcome(
        candidates=len(calls),
        sampled=len(chosen),
        passed=sum(passed for passed, _rows in graded),
        checks_written=len(rows),
        skipped=runnable.skipped,
    )
