"""The optimizer over a whole database: every prompt's candidates tested, and the projected
saving of those that hold quality as a share of the month's spend (the figure issue #24 sets
against the seed's 30–50%, quoted for the demo).

A candidate counts when its run held quality (testing.holds_quality), or when it needs no run
(the exact cache answers with answers already given). Compression by rules and by a model's
rewrite shorten the same text: only the larger of the two counts. A candidate whose run needs a
hosted model is left untested when `offline` is asked (no key, no network), and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from llmbench.builtin_models.simulator import SIMULATOR_MODELS
from llmbench.config import Settings
from llmbench.core.optimize.candidates import Candidate
from llmbench.core.optimize.replay import MONTH_DAYS
from llmbench.services.optimize.candidates import Found, OptimizeError, find_all, window
from llmbench.services.optimize.rewrite import with_rewrite
from llmbench.services.optimize.testing import test_candidate
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
        return sum(verdict.projected_monthly for verdict in self.counted)

    @property
    def share(self) -> float:
        return self.saving / self.spend if self.spend else 0.0


def _models(found: Found, candidate: Candidate) -> set[str]:
    return {found.usage.model, *([candidate.model] if candidate.model else [])}


def _verdict(store: Store, settings: Settings, found: Found, candidate: Candidate) -> Verdict:
    name = found.prompt.name
    if not candidate.testable:
        return Verdict(name, candidate, "holds", candidate.projected_monthly, "replayed")
    try:
        tested = test_candidate(store, settings, found, candidate)
    except OptimizeError as error:
        return Verdict(name, candidate, "not tested", 0.0, str(error))
    status: Status = "holds" if tested.holds else "does not hold"
    return Verdict(name, candidate, status, tested.projected_monthly, f"run {tested.run_id}")


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
    for found in find_all(store, now=now, days=days):
        found = with_rewrite(store, settings, found)
        for candidate in found.candidates:
            hosted = sorted(_models(found, candidate) - set(SIMULATOR_MODELS))
            if offline and hosted and candidate.testable:
                note = f"needs {', '.join(hosted)}: not run offline"
                verdicts.append(Verdict(found.prompt.name, candidate, "not tested", 0.0, note))
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
        f"held: ${result.saving:,.4f}/month of ${result.spend:,.2f} spent in the window"
        f" ({result.share:.1%})"
    )
    return "\n".join([*rows, total])
