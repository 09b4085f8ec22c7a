"""The demo's recorded model bake-off: `support-reply` v4, in production on Claude 3.5 Sonnet,
run on Sonnet and on Claude 3.5 Haiku over the support tickets a week before `now`, its outputs
checked as the story's other support run checks them (demo.evals).

It is the evidence a team's database holds for a hosted prompt: the cost optimizer, which
cannot run Sonnet or Haiku without their keys, reads the cheaper model's verdict from this
run's cells (services/optimize/evidence.py) through the same migration report an optimizer
run gets. Its outputs are drawn per cell (each right with the version's quality × the model's,
else with one typical flaw) and checked for real; whether Haiku holds is what the checks say.

Its calls come on top of the story's, like the optimizer's prompt's (demo.optimize_demo): the
story's traffic and runs stay as drawn, and the build merges these calls in time order
(`with_bake_off` hands the run and its calls to the build)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from typing import Any

from llmbench.demo import evals
from llmbench.demo.catalog import HAIKU, SONNET
from llmbench.demo.content import demo_price_table
from llmbench.demo.records import DemoClock, DemoContent, DemoRun

REQUEST_PREFIX = "demo-bake-off-"
BAKE_OFF = evals.RunSpec(
    key="support-models",
    name="support-reply v4: Sonnet vs Haiku",
    prompt="support-reply",
    dataset="support-tickets",
    versions=(4,),
    models=(SONNET, HAIKU),
    days_ago=7.6,
    checks=evals.RUNS[0].checks,
    quality={4: 0.85},
    # Haiku as in the story's first support run; Sonnet a little better on paper.
    model_quality={SONNET: 1.1, HAIKU: 1.08},
    tokens=evals.RUNS[0].tokens,
    team="customer-success",
    output=evals.support_output,
    evaluate=evals.support_checks,
)


def call_count() -> int:
    """The bake-off's calls (one per cell), on top of the story's."""
    return len(BAKE_OFF.versions) * len(BAKE_OFF.models) * evals.CASES_PER_DATASET


def bake_off(content: DemoContent, seed: int, days: int) -> tuple[DemoRun, list[dict[str, Any]]]:
    """The run and its calls (each call's request_id is on its result)."""
    now = datetime.fromisoformat(content.now.replace("Z", "+00:00"))
    clock = DemoClock(now, days)
    prompt = next(p for p in content.prompts if p.name == BAKE_OFF.prompt)
    dataset = next(d for d in content.datasets if d.name == BAKE_OFF.dataset)
    rng = random.Random(f"{seed}:optimize-runs")  # a stream of its own: the story's stay as drawn
    # The story's own cell drawing (demo.evals), so this run reads like the others.
    results, calls, started, finished = evals.run_cells(
        rng, clock, BAKE_OFF, prompt, dataset, demo_price_table()
    )
    # Named like the optimizer prompt's calls (demo-extract-…): drawn here, not by the story.
    for n, (call, result) in enumerate(zip(calls, results, strict=True)):
        call["request_id"] = f"{REQUEST_PREFIX}{n}"
        results[n] = replace(result, request_id=call["request_id"])
    run = evals.demo_run(BAKE_OFF, results, started, finished)
    return run, calls


def with_bake_off(
    content: DemoContent, seed: int, days: int
) -> tuple[DemoContent, list[dict[str, Any]]]:
    """The content with the bake-off after the story's runs, and the bake-off's calls."""
    run, calls = bake_off(content, seed, days)
    return replace(content, runs=(*content.runs, run)), calls
