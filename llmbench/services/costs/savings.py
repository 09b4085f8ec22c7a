"""Savings and insights: what the cache saved, and where money could be saved next.

- versions that mark sections cacheable: what the provider's prompt cache saved them against
  what it could (services/costs/cache_savings.py);
- prompts whose static text (sections without their template variables) is most of what they
  send: candidates for provider prompt caching, with the saving at the cached-input price;
- calls sent without max_tokens, per model;
- identical requests answered more than once (exact-cache candidates), with what a cache
  would have saved (every answer but the first);
- in recent runs, a cheaper model that passed as many checks as the most expensive one.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.core.costs.pricing import PER_MILLION
from llmbench.services.costs.cache_savings import CachedPrompt, cached_prompts, static_tokens
from llmbench.store.costs import savings as costs_repo
from llmbench.store.costs.savings import OpenEnded, Repeats
from llmbench.store.db import Store

STATIC_SHARE = 0.5  # static text at least this share of the prompt tokens is worth caching
MIN_CALLS = 10


@dataclass(frozen=True)
class StaticHeavy:
    prompt: str
    version: int
    model: str
    calls: int
    static_tokens: int
    mean_prompt_tokens: float
    already_cached: float  # share of prompt tokens the provider already served from cache
    saving: float  # USD in the window had the static part been billed at the cached price

    @property
    def static_share(self) -> float:
        return min(self.static_tokens / self.mean_prompt_tokens, 1.0)


@dataclass(frozen=True)
class CheaperModel:
    run: str
    expensive: str
    cheaper: str
    pass_rate: float
    cheaper_pass_rate: float
    cost_per_call: float
    cheaper_cost_per_call: float

    @property
    def saving_share(self) -> float:
        return 1 - self.cheaper_cost_per_call / self.cost_per_call


@dataclass(frozen=True)
class Savings:
    cache_hits: int
    cache_saved: float
    static_heavy: list[StaticHeavy]
    open_ended: list[OpenEnded]
    repeats: list[Repeats]
    cheaper_models: list[CheaperModel]
    cached_prompts: list[CachedPrompt]
    """Versions that mark sections cacheable: realised against potential savings."""

    @property
    def repeat_saving(self) -> float:
        return sum(r.cost - r.first_cost for r in self.repeats)


def _static_heavy(store: Store, since: str, until: str) -> list[StaticHeavy]:
    found = []
    for use in costs_repo.version_use(store.read(), since, until):
        if use.calls < MIN_CALLS or not use.prompt_tokens:
            continue
        static = static_tokens(use.sections, use.model)
        mean = use.prompt_tokens / use.calls
        if static / mean < STATIC_SHARE:
            continue
        cached_share = use.cached_tokens / use.prompt_tokens
        discount = (use.input_price or 0.0) - (use.cached_price or 0.0)
        # Only the static tokens not already served from the provider's cache would gain.
        gain_tokens = max(min(static, mean) * use.calls - use.cached_tokens, 0)
        found.append(
            StaticHeavy(
                prompt=use.prompt,
                version=use.version,
                model=use.model,
                calls=use.calls,
                static_tokens=static,
                mean_prompt_tokens=mean,
                already_cached=cached_share,
                saving=max(gain_tokens * discount / PER_MILLION, 0.0),
            )
        )
    return sorted(found, key=lambda item: -item.saving)


def _cheaper_models(store: Store) -> list[CheaperModel]:
    by_run: dict[int, list[costs_repo.RunModel]] = {}
    for row in costs_repo.recent_run_models(store.read()):
        if row.checked and row.priced:
            by_run.setdefault(row.run_id, []).append(row)
    found = []
    for rows in by_run.values():
        priciest = max(rows, key=lambda row: row.cost / row.priced)
        rate = priciest.passed / priciest.checked
        candidates = [
            row
            for row in rows
            if row is not priciest
            and row.passed / row.checked >= rate
            and row.cost / row.priced < priciest.cost / priciest.priced
        ]
        if not candidates:
            continue
        cheapest = min(candidates, key=lambda row: row.cost / row.priced)
        found.append(
            CheaperModel(
                run=priciest.run_name,
                expensive=priciest.model,
                cheaper=cheapest.model,
                pass_rate=rate,
                cheaper_pass_rate=cheapest.passed / cheapest.checked,
                cost_per_call=priciest.cost / priciest.priced,
                cheaper_cost_per_call=cheapest.cost / cheapest.priced,
            )
        )
    return found


def savings(store: Store, since: str, until: str) -> Savings:
    db = store.read()
    hits, saved = costs_repo.cache_savings(db, since, until)
    return Savings(
        cache_hits=hits,
        cache_saved=saved,
        static_heavy=_static_heavy(store, since, until),
        open_ended=costs_repo.without_max_tokens(db, since, until),
        repeats=costs_repo.repeated_requests(db, since, until),
        cheaper_models=_cheaper_models(store),
        cached_prompts=cached_prompts(store, since, until),
    )
