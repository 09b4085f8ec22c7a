"""F5's Savings view as text: what the cache saved, then each kind of place where money could
be saved next (prompt caching, max_tokens, an exact cache, a cheaper model) with its top items."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from llmbench.tui.format import count, model_label, money, percent

if TYPE_CHECKING:
    from llmbench.services.costs.cache_savings import CachedPrompt
    from llmbench.services.costs.savings import Savings

T = TypeVar("T")
SHOWN = 8
"""Items listed per kind of saving."""


def savings_text(found: Savings) -> str:
    lines = [f"Cache: {count(found.cache_hits)} hits saved {money(found.cache_saved)}."]
    if found.cached_prompts:  # only once a version marks sections cacheable (F2's editor)
        lines += _section(
            "Prompt caching applied (sections marked cacheable), realised of potential:",
            found.cached_prompts,
            "",
            _cached_line,
        )
    lines += _section(
        "Prompts whose static text is most of what they send (provider prompt caching):",
        found.static_heavy,
        "none: static text is under half of every prompt's tokens",
        lambda item: (
            f"{item.prompt} v{item.version} on {item.model}: {count(item.static_tokens)} "
            f"static of {item.mean_prompt_tokens:,.0f} tokens ({percent(item.static_share)}), "
            f"{percent(item.already_cached)} cached today → save ~{money(item.saving)}"
        ),
    )
    lines += _section(
        "Calls without max_tokens (an answer can run to the model's limit):",
        found.open_ended,
        "none",
        lambda item: (
            f"{model_label(item.model)}: {count(item.calls)} calls, {money(item.cost)}, "
            f"longest answer {count(item.max_completion)} tokens"
        ),
    )
    lines += _section(
        f"Identical requests answered more than once (an exact cache would save "
        f"{money(found.repeat_saving)} on the top {len(found.repeats)}):",
        found.repeats,
        "none",
        lambda item: (
            f"{item.calls}× {model_label(item.model)} {money(item.cost - item.first_cost)}"
            f"  {' '.join(item.preview.split())[:70]}…"
        ),
    )
    lines += _section(
        "Cheaper models that passed as many checks in recent runs:",
        found.cheaper_models,
        "none found (run a comparison with checks in F3)",
        lambda item: (
            f"{item.run}: {item.cheaper} passed {percent(item.cheaper_pass_rate)} vs "
            f"{item.expensive} {percent(item.pass_rate)} at {money(item.cheaper_cost_per_call)}"
            f" instead of {money(item.cost_per_call)} per call ({percent(item.saving_share)}"
            " less)"
        ),
    )
    return "\n".join(lines)


def _cached_line(item: CachedPrompt) -> str:
    share = f" ({percent(item.realised_share)})" if item.realised_share is not None else ""
    writes = (
        f", {count(item.cache_write_tokens)} written (+{money(item.write_cost)})"
        if item.cache_write_tokens
        else ""
    )
    return (
        f"{item.prompt} v{item.version} on {model_label(item.model)}: realised "
        f"{money(item.realised)} of {money(item.potential)} potential{share}; "
        f"{count(item.cached_tokens)} tokens read from the cache{writes} in "
        f"{count(item.calls)} calls"
    )


def _section(heading: str, items: Sequence[T], empty: str, line: Callable[[T], str]) -> list[str]:
    """A blank line, the heading, then the first SHOWN items one to a line (or `empty`)."""
    shown = [line(item) for item in items[:SHOWN]] if items else [empty]
    return ["", heading, *(f"  {text}" for text in shown)]
