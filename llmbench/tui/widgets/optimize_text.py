"""The optimizer screen's text (F5 → Savings → o): a candidate's row and what it changes, and
a tested candidate's migration report: quality delta with its interval, regressions, cost and
latency per call, and the monthly saving projected at the last 30 days' volume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmbench.tui.format import NOTHING, money, percent

if TYPE_CHECKING:
    from llmbench.core.optimize.candidates import Candidate
    from llmbench.services.optimize.candidates import Found
    from llmbench.services.optimize.testing import Tested

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Prompt", "prompt"),
    ("Kind", "kind"),
    ("Change", "change"),
    ("Projected / month", "projected"),
    ("Tested", "tested"),
)


def candidate_cells(found: Found, candidate: Candidate, tested: Tested | None) -> tuple[str, ...]:
    projected = tested.projected_monthly if tested else candidate.projected_monthly
    state = "" if tested is None else ("holds" if tested.holds else "does not hold")
    return (
        f"{found.prompt.name} v{found.version.version}",
        candidate.kind.replace("_", " "),
        candidate.title,
        money(projected) if projected else "after the run",
        state,
    )


def candidate_text(found: Found, candidate: Candidate) -> str:
    usage = found.usage
    lines = [
        f"{found.prompt.name} v{found.version.version} on {usage.model}: {usage.calls:,} calls, "
        f"{money(usage.cost)} in the last {usage.window_days:.0f} days",
        f"{candidate.title}",
        *(f"  {detail}" for detail in candidate.details),
    ]
    if candidate.testable:
        lines.append("enter tests it against production on the prompt's dataset")
    else:
        lines.append("replayed over the calls; nothing to run: p ships it as the cache policy")
    return "\n".join(lines)


def _points(value: float | None) -> str:
    return NOTHING if value is None else f"{value:+.1f} pts"


def tested_text(found: Found, tested: Tested) -> str:
    report = tested.report
    interval = (
        f" (95% CI {report.ci_low:+.1f} to {report.ci_high:+.1f})"
        if report.ci_low is not None and report.ci_high is not None
        else ""
    )
    cost = (
        f"{money(report.baseline_cost_per_case)} → {money(report.candidate_cost_per_case)} per call"
    )
    latency = (
        f"p50 {report.baseline_latency_p50_ms or 0:.0f} → "
        f"{report.candidate_latency_p50_ms or 0:.0f} ms"
    )
    share = tested.projected_monthly / found.usage.cost if found.usage.cost else None
    verdict = (
        "Quality holds: p promotes it" if tested.holds else "Quality does not hold: not promoted"
    )
    return "\n".join(
        [
            f"{tested.candidate.title}: run {tested.run_id} ({report.paired_cases} cases)",
            f"Quality delta {_points(report.quality_delta)}{interval}, pass rate "
            f"{percent(report.baseline_pass_rate)} → {percent(report.candidate_pass_rate)}",
            f"Regressions: {len(report.regressions)}   fixes: {len(report.fixes)}",
            f"Cost {cost}   latency {latency}",
            f"Projected saving {money(tested.projected_monthly)}/month "
            f"({percent(share)} of the prompt's spend)",
            verdict,
        ]
    )
