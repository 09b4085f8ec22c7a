"""The demo database's content, generated deterministically from a seed and a `now`.

Returns plain records and call dicts (see demo_records), the calls a slice at a time
(demo.call_stream); the demo build writes them.
Each part draws from its own seeded stream, so changing the call count leaves prompts,
datasets, runs and grades unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Variable
from llmbench.demo import docs_prompt as demo_docs_prompt
from llmbench.demo import evals as demo_evals
from llmbench.demo.call_stream import SLICE_CALLS, CallStream
from llmbench.demo.catalog import DEMO_PRICES
from llmbench.demo.prompt_history import PROMPTS, PromptSpec
from llmbench.demo.records import (
    DemoClock,
    DemoContent,
    DemoLabelMove,
    DemoNote,
    DemoPrompt,
    DemoVersion,
    Progress,
    default_now,
    iso_ms,
)

__all__ = ["CallStream", "DemoContent", "demo_price_table", "generate", "plan", "run_call_count"]


def demo_price_table() -> PriceTable:
    return PriceTable(entry for entry, _source in DEMO_PRICES)


def run_call_count() -> int:
    """How many of the demo's calls belong to its comparison runs."""
    return demo_evals.run_call_count()


def plan(
    seed: int = 7,
    calls: int = 20_000,
    days: int = 30,
    now: datetime | None = None,
    progress: Progress | None = None,
    slice_calls: int = SLICE_CALLS,
) -> tuple[DemoContent, CallStream]:
    """The demo's story without its calls, and the stream that draws them a slice at a time.
    Same arguments, same content.

    `calls` is the audit log's size: the comparison runs' calls count towards it (when it is
    smaller than they need, they are all there is). `progress(done, total)` follows the
    production calls being generated.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    if calls < 0:
        raise ValueError("calls cannot be negative")
    clock = DemoClock(now or default_now(), days)
    prices = demo_price_table()
    prompts = tuple(_prompt(spec, clock) for spec in (*PROMPTS, demo_docs_prompt.PROMPT))
    datasets = demo_evals.datasets(random.Random(f"{seed}:datasets"), clock)
    runs, run_calls = demo_evals.runs(
        random.Random(f"{seed}:runs"), clock, prompts, datasets, prices
    )
    grades = demo_evals.grades(random.Random(f"{seed}:grades"), runs[0])
    production = max(calls - len(run_calls), 0)
    stream = CallStream(
        seed,
        clock,
        prompts,
        prices,
        run_calls,
        production,
        slice_calls=slice_calls,
        progress=progress,
    )
    content = DemoContent(
        now=iso_ms(clock.now),
        prices=DEMO_PRICES,
        prompts=prompts,
        datasets=datasets,
        runs=runs,
        rubric=demo_evals.rubric(clock),
        grades=grades,
        calls=[],
        spike=stream.spike,
    )
    return content, stream


def generate(
    seed: int = 7,
    calls: int = 20_000,
    days: int = 30,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoContent:
    """Everything the demo database holds, its calls in memory (in time order, with the
    outage's deflected answers): for a look at the content, not for a large demo, which the
    build writes from `plan`'s stream a slice at a time."""
    content, stream = plan(seed, calls, days, now, progress)
    return replace(content, calls=[row for chunk in stream.chunks() for row in chunk])


def _prompt(spec: PromptSpec, clock: DemoClock) -> DemoPrompt:
    return DemoPrompt(
        name=spec.name,
        description=spec.description,
        tags=spec.tags,
        created_at=clock.ago_iso(spec.created_days_ago),
        versions=tuple(
            DemoVersion(
                number=version.number,
                sections=dict(version.sections),
                variables=_variables(spec.variables, version.sections),
                model=version.model,
                params=dict(version.params),
                author=version.author,
                message=version.message,
                created_at=clock.ago_iso(version.days_ago),
                parent=version.parent,
                cacheable=version.cacheable,
            )
            for version in spec.versions
        ),
        label_moves=tuple(
            DemoLabelMove(label=label, to_version=number, moved_by=by, moved_at=clock.ago_iso(ago))
            for label, number, ago, by in spec.moves
        ),
        notes=tuple(
            DemoNote(kind=kind, text=text, version=number, author=by, created_at=clock.ago_iso(ago))
            for kind, number, ago, by, text in spec.notes
        ),
    )


def _variables(
    candidates: tuple[Variable, ...], sections: Mapping[str, str]
) -> tuple[Variable, ...]:
    """The variables a version's sections actually use, in the prompt's order."""
    text = "\n".join(sections.values())
    return tuple(variable for variable in candidates if "{{ " + variable.name + " }}" in text)
