"""Cost from a price table. Prices are USD per million tokens and dated, so history keeps the
price that was paid. A model with no price is *unpriced*: cost None, never a silent 0."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmbench.core.models import Price, Usage

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class DatedPrice:
    model: str
    from_date: str  # ISO date; the price applies from this day on
    price: Price


def cost_of(usage: Usage, price: Price | None) -> float | None:
    """Cost of one call. Prompt tokens read from the provider's cache are billed at the cached
    rate, those written to it at the cache-write rate (else as input); reasoning tokens, part
    of the completion, at the reasoning rate (else as output, as providers bill them). Audio
    tokens are billed at the audio rates where the price has them (else as input and output);
    where it prices images per image and the prompt's image tokens are known, the images are
    billed per image instead of those tokens (litellm's cost calculator bills them so too)."""
    if price is None:
        return None
    written = usage.cache_write_tokens or 0
    reasoning = min(usage.reasoning_tokens or 0, usage.completion_tokens)
    uncached = max(usage.prompt_tokens - usage.cached_tokens - written, 0)
    audio_in = _share(usage.audio_prompt_tokens, price.audio_input, uncached)
    per_image = price.per_image is not None and usage.images > 0
    per_image = per_image and usage.image_prompt_tokens is not None
    image_tokens = (
        _share(usage.image_prompt_tokens, price.per_image, uncached - audio_in) if per_image else 0
    )
    audio_out = _share(
        usage.audio_completion_tokens, price.audio_output, usage.completion_tokens - reasoning
    )
    per_million = (
        (uncached - audio_in - image_tokens) * price.input
        + usage.cached_tokens * price.cached
        + written * (price.input if price.cache_write is None else price.cache_write)
        + audio_in * (price.audio_input or 0.0)
        + (usage.completion_tokens - reasoning - audio_out) * price.output
        + reasoning * (price.output if price.reasoning is None else price.reasoning)
        + audio_out * (price.audio_output or 0.0)
    )
    images = usage.images * (price.per_image or 0.0) if per_image else 0.0
    return per_million / PER_MILLION + images


def _share(tokens: int | None, rate: float | None, at_most: int) -> int:
    """The tokens billed at a rate of their own: none without the rate, and never more than
    the tokens they are part of (a provider's details may overlap its cached count)."""
    if rate is None or not tokens:
        return 0
    return max(min(tokens, at_most), 0)


class PriceTable:
    """Prices by model, each a history of dated entries; the latest entry not after `on` wins."""

    def __init__(self, entries: Iterable[DatedPrice] = ()) -> None:
        self._by_model: dict[str, list[DatedPrice]] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: DatedPrice) -> None:
        history = self._by_model.setdefault(entry.model, [])
        history.append(entry)
        history.sort(key=lambda item: item.from_date)

    def price(self, model: str, on: str | None = None) -> Price | None:
        history = self._by_model.get(model)
        if not history:
            return None
        if on is None:
            return history[-1].price
        day = on[:10]
        chosen = None
        for entry in history:
            if entry.from_date <= day:
                chosen = entry.price
        return chosen

    def cost(self, model: str, usage: Usage, on: str | None = None) -> float | None:
        return cost_of(usage, self.price(model, on))

    def models(self) -> list[str]:
        return sorted(self._by_model)


# The built-in offline models are simulators, priced like a small hosted model so that demo
# costs are realistic and non-zero. Users can override them like any other price.
SIMULATOR_PRICES: dict[str, Price] = {
    "llmbench/mock": Price(input=0.15, output=0.60, cached=0.075),
    "llmbench/echo": Price(input=0.15, output=0.60, cached=0.075),
}
SIMULATOR_PRICE_DATE = "2024-01-01"


def simulator_price_table() -> PriceTable:
    return PriceTable(
        DatedPrice(model, SIMULATOR_PRICE_DATE, price) for model, price in SIMULATOR_PRICES.items()
    )
