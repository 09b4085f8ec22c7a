"""Realised against potential savings of provider prompt caching, per version that marks
sections cacheable and model: what the cache actually saved (cache-read tokens at the input
price less what they were billed, less the cache writes' premium) next to what caching the
version's static text would save on the same calls (the savings advice's estimate)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from llmbench.core.costs.pricing import PER_MILLION
from llmbench.core.tokens import count_tokens
from llmbench.store.costs.prompt_cache import cache_use
from llmbench.store.db import Store

_TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class CachedPrompt:
    prompt: str
    version: int
    model: str
    cacheable: tuple[str, ...]
    calls: int
    cached_tokens: int
    cache_write_tokens: int
    read_saving: float
    write_cost: float
    potential: float
    """USD: every call's static tokens billed at the cached price instead of the input price."""

    @property
    def realised(self) -> float:
        return self.read_saving - self.write_cost

    @property
    def realised_share(self) -> float | None:
        """Realised over potential; None when nothing could be saved (no price, no static)."""
        return self.realised / self.potential if self.potential > 0 else None


@lru_cache(maxsize=512)
def static_tokens(sections_json: str, model: str) -> int:
    """Tokens of a version's sections with every template expression taken out."""
    sections = json.loads(sections_json) if sections_json else {}
    text = "\n".join(_TEMPLATE_CODE.sub("", str(value)) for value in sections.values())
    return count_tokens(text, model) if text.strip() else 0


def potential_saving(
    static: int,
    mean_prompt_tokens: float,
    calls: int,
    input_price: float | None,
    cached_price: float | None,
) -> float:
    """USD saved had the static part of every call been billed at the cached price."""
    discount = (input_price or 0.0) - (cached_price or 0.0)
    return max(min(static, mean_prompt_tokens) * calls * discount / PER_MILLION, 0.0)


def cached_prompts(store: Store, since: str, until: str) -> list[CachedPrompt]:
    """Every marked version used in the window, on each model, most realised first."""
    found = []
    for use in cache_use(store.read(), since, until):
        mean = use.prompt_tokens / use.calls if use.calls else 0.0
        found.append(
            CachedPrompt(
                prompt=use.prompt,
                version=use.version,
                model=use.model,
                cacheable=use.cacheable,
                calls=use.calls,
                cached_tokens=use.cached_tokens,
                cache_write_tokens=use.cache_write_tokens,
                read_saving=use.read_saving,
                write_cost=use.write_cost,
                potential=potential_saving(
                    static_tokens(use.sections, use.model),
                    mean,
                    use.calls,
                    use.input_price,
                    use.cached_price,
                ),
            )
        )
    return found
