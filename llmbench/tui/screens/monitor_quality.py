"""F7's production quality row: the judge's daily mean score on sampled production calls
(`llmbench monitor sample`) and the daily share of similar queries whose answers diverge
(`llmbench monitor consistency`), as captions and sparkline values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmbench.tui.format import count, percent

if TYPE_CHECKING:
    from llmbench.services.monitoring.production_quality import ProductionQuality


def judge_caption(quality: ProductionQuality) -> str:
    latest = quality.latest_judge
    if latest is None or latest.mean_score is None:
        return "Judge on production 30 d: no verdicts yet (llmbench monitor sample)"
    failed = f", {count(latest.failures)} failed" if latest.failures else ""
    return (
        f"Judge on production 30 d, latest {latest.mean_score:.2f} "
        f"({count(latest.judged)} verdicts {latest.day[5:]}{failed})"
    )


def judge_values(quality: ProductionQuality) -> list[float]:
    return [day.mean_score or 0.0 for day in quality.judge]


def consistency_caption(quality: ProductionQuality) -> str:
    days = [day for day in quality.consistency_by_day() if day[1]]
    if not days:
        return "Diverging answers: not measured yet (llmbench monitor consistency)"
    _day, pairs, divergent = days[-1]
    text = f"Diverging answers 30 d, latest {percent(divergent / pairs)} of {count(pairs)} pairs"
    # With several prompts, the one to look at first: the highest share on its latest day.
    latest = [
        (series.latest.share or 0.0, series.prompt)
        for series in quality.consistency
        if series.latest is not None
    ]
    if len(latest) > 1:
        share, prompt = max(latest)
        text += f" · worst {prompt} {percent(share)}"
    return text


def consistency_values(quality: ProductionQuality) -> list[float]:
    return [
        divergent / pairs if pairs else 0.0
        for _day, pairs, divergent in quality.consistency_by_day()
    ]
