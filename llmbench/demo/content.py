"""The demo database's content, generated deterministically from a seed and a `now`.

Pure: returns plain records and call dicts (see demo_records); the demo service writes them.
Each part draws from its own seeded stream, so changing the call count leaves prompts,
datasets, runs and grades unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Variable
from llmbench.demo import conversations as demo_conversations
from llmbench.demo import docs_prompt as demo_docs_prompt
from llmbench.demo import evals as demo_evals
from llmbench.demo import media_call as demo_media
from llmbench.demo import prompt_cache_traffic as demo_prompt_cache
from llmbench.demo import token_details as demo_token_details
from llmbench.demo import traffic as demo_traffic
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

__all__ = ["DemoContent", "demo_price_table", "generate", "run_call_count"]


def demo_price_table() -> PriceTable:
    return PriceTable(entry for entry, _source in DEMO_PRICES)


def run_call_count() -> int:
    """How many of the demo's calls belong to its comparison runs."""
    return demo_evals.run_call_count()


def generate(
    seed: int = 7,
    calls: int = 20_000,
    days: int = 30,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoContent:
    """Everything the demo database holds. Same arguments, same content.

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
    traffic = demo_traffic.Traffic(random.Random(f"{seed}:calls"), clock, prompts, prices, progress)
    production, spike = traffic.generate(max(calls - len(run_calls), 0))
    all_calls = production + run_calls
    all_calls.sort(key=lambda call: call["ts"])
    # A few support chats as conversations with tool calls, from a stream of their own.
    demo_conversations.add_conversations(random.Random(f"{seed}:conversations"), all_calls, clock)
    # Reasoning (o3-mini) and Anthropic cache writes on older calls, from a stream of their own.
    demo_token_details.add_token_details(
        random.Random(f"{seed}:token-details"), all_calls, clock, prices
    )
    # A screenshot attached to the newest call mentioning a refund (the F6 detail screenshot's).
    demo_media.add_image_call(random.Random(f"{seed}:media"), all_calls, prices)
    # The search answers as calls of answer-from-docs, whose v3 marks its head cacheable.
    demo_prompt_cache.add_docs_prompt(all_calls, prompts[-1], prices)
    return DemoContent(
        now=iso_ms(clock.now),
        prices=DEMO_PRICES,
        prompts=prompts,
        datasets=datasets,
        runs=runs,
        rubric=demo_evals.rubric(clock),
        grades=grades,
        calls=all_calls,
        spike=spike,
    )


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
