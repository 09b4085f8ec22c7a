"""The optimizer over a whole database: every prompt's candidates tested, and the projected
saving of those that hold quality as a share of the month's spend (the figure issue #24 sets
against the seed's 30–50%, quoted for the demo).

A candidate counts when its run held quality (testing.holds_quality), or when it needs no run
(the exact cache answers with answers already given). Compression by rules and by a model's
rewrite shorten the same text: only the larger of the two counts. A candidate whose run needs a
hosted model is not run when `offline` is asked (no key, no network): it is judged by a run
already recorded that compared it with production (evidence.py), and says which; without one
it is left untested, and says so.

The held candidates of one prompt act on the same calls, so their savings do not add up: each
saves its share of what the others leave (an exact cache's hits cost nothing whatever model
answers the misses), the prompt's saving being its month's cost × (1 − Π(1 − share))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from llmbench.builtin_models.simulator import SIMULATOR_MODELS
from llmbench.config import Settings
from llmbench.core.optimize.candidates import Candidate
from llmbench.core.optimize.replay import MONTH_DAYS, monthly
from llmbench.services.optimize.candidates import Found, OptimizeError, find_all, window
from llmbench.services.optimize.evidence import recorded
from llmbench.services.optimize.rewrite import with_rewrite
from llmbench.services.optimize.testing import Tested, test_candidate
from llmbench.store import optimizations as repo
from llmbench.store.db import Store

Status = Literal["holds", "does not hold", "not tested"]
ALTERNATIVES = ("compression", "rewrite")  # the same text shortened two ways: one counts


@dataclass(frozen=True)
class Verdict:
    prompt: str
    candidate: Candidate
    status: Status
    projected_monthly: float
    note: str = ""  # the run, or why there was none
    baseline_monthly: float = 0.0  # the production version's month, which savings are shares of


@dataclass(frozen=True)
class Overview:
    spend: float  # every call of the window
    verdicts: tuple[Verdict, ...]

    @property
    def counted(self) -> list[Verdict]:
        """The verdicts whose saving counts: held, the larger of each prompt's alternatives."""
        held = [verdict for verdict in self.verdicts if verdict.status == "holds"]
        best: dict[str, Verdict] = {}
        for verdict in held:
            if verdict.candidate.kind in ALTERNATIVES:
                kept = best.get(verdict.prompt)
                if kept is None or verdict.projected_monthly > kept.projected_monthly:
                    best[verdict.prompt] = verdict
        return [v for v in held if v.candidate.kind not in ALTERNATIVES or best[v.prompt] is v]

    @property
    def saving(self) -> float:
        return sum(self.prompt_savings().values())

    def prompt_savings(self) -> dict[str, float]:
        """Each prompt's saving: its counted candidates stacked on the same month of calls."""
        by_prompt: dict[str, list[Verdict]] = {}
        for verdict in self.counted:
            by_prompt.setdefault(verdict.prompt, []).append(verdict)
        return {prompt: stacked(verdicts) for prompt, verdicts in by_prompt.items()}

    @property
    def share(self) -> float:
        return self.saving / self.spend if self.spend else 0.0


def stacked(verdicts: list[Verdict]) -> float:
    """Savings on one prompt's month, each a share of what the others leave; summed when the
    month's cost is unknown."""
    base = max((verdict.baseline_monthly for verdict in verdicts), default=0.0)
    if base <= 0:
        return sum(verdict.projected_monthly for verdict in verdicts)
    left = 1.0
    for verdict in verdicts:
        left *= 1 - min(max(verdict.projected_monthly / base, 0.0), 1.0)
    return base * (1 - left)


def _models(found: Found, candidate: Candidate) -> set[str]:
    return {found.usage.model, *([candidate.model] if candidate.model else [])}


def _base(found: Found) -> float:
    return monthly(found.usage.cost, found.usage.window_days)


def _judged(found: Found, tested: Tested, note: str) -> Verdict:
    status: Status = "holds" if tested.holds else "does not hold"
    return Verdict(
        found.prompt.name, tested.candidate, status, tested.projected_monthly, note, _base(found)
    )


def _verdict(store: Store, settings: Settings, found: Found, candidate: Candidate) -> Verdict:
    name = found.prompt.name
    if not candidate.testable:
        return Verdict(
            name, candidate, "holds", candidate.projected_monthly, "replayed", _base(found)
        )
    try:
        tested = test_candidate(store, settings, found, candidate)
    except OptimizeError as error:
        return Verdict(name, candidate, "not tested", 0.0, str(error))
    return _judged(found, tested, f"run {tested.run_id}")


def _untested(store: Store, found: Found, candidate: Candidate, hosted: list[str]) -> Verdict:
    """A candidate whose run needs a hosted model, offline: judged by a recorded run of it."""
    evidence = recorded(store, found, candidate)
    if evidence is None:
        note = f"needs {', '.join(hosted)}: not run offline"
        return Verdict(found.prompt.name, candidate, "not tested", 0.0, note)
    report = evidence.report
    delta = report.quality_delta or 0.0
    interval = (
        f" (CI {report.ci_low:+.1f}…{report.ci_high:+.1f})"
        if report.ci_low is not None and report.ci_high is not None
        else ""
    )
    note = (
        f"recorded run {evidence.run_id}: quality {delta:+.1f} pts{interval},"
        f" {len(report.regressions)} regressions"
    )
    return _judged(found, evidence, note)


def overview(
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    offline: bool = False,
    days: int = MONTH_DAYS,
) -> Overview:
    since, until = window(now, days)
    verdicts: list[Verdict] = []
    for found in find_all(store, now=now, days=days, cache_ttl_s=settings.gateway.cache_ttl_s):
        found = with_rewrite(store, settings, found)
        for candidate in found.candidates:
            hosted = sorted(_models(found, candidate) - set(SIMULATOR_MODELS))
            if offline and hosted and candidate.testable:
                verdicts.append(_untested(store, found, candidate, hosted))
                continue
            verdicts.append(_verdict(store, settings, found, candidate))
    return Overview(repo.spend(store.read(), since, until), tuple(verdicts))


def describe(result: Overview) -> str:
    """One line per verdict, then the held saving as a share of the spend."""
    rows = [
        f"  {v.prompt:<18} {v.candidate.kind:<13} {v.status:<13} "
        f"${v.projected_monthly:,.4f}/month  {v.candidate.title} ({v.note})"
        for v in result.verdicts
    ]
    total = (
        f"held (stacked per prompt): ${result.saving:,.4f}/month of ${result.spend:,.2f}"
        f" spent in the window ({result.share:.1%})"
    )
    return "\n".join([*rows, total])
