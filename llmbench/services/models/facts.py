"""What is known of a model from outside this database's calls: its context window, longest
answer, prices, whether it takes tools and images, and its licence.

Prices are the ones the gateway bills a call at today: a dated entry of the prices table,
else the config's [prices], else the built-in simulators' own, else litellm's table. The rest
comes from litellm's table (read from the file it ships, never by importing litellm), the
built-in models' own facts, and the licence table of `core.licences`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llmbench.builtin_models.facts import BUILTIN_MODEL_FACTS
from llmbench.config import PriceOverride
from llmbench.core.costs.pricing import PER_MILLION, SIMULATOR_PRICES, PriceTable
from llmbench.core.licences import Licence, licence_of
from llmbench.core.models import Price
from llmbench.gateway.model_table import entry_price, table_entry

BUILTIN_PROVIDER = "llmbench"
# A simulator is code of llmbench, not a model with weights: llmbench's own licence.
BUILTIN_LICENCE = Licence("MIT", None, note="llmbench's own code, no weights")


@dataclass(frozen=True)
class ModelFacts:
    provider: str
    """litellm's provider of the entry, "llmbench" for the built-in models, "" when unknown."""
    context_window: int | None
    """Most input tokens (None: unknown, or no limit for a built-in model)."""
    max_output: int | None
    price: Price | None
    """USD per million tokens, as billed today."""
    price_source: str
    """"prices table", "config", "built-in", "litellm" or "" (unpriced)."""
    reasoning_price: float | None
    """USD per million reasoning tokens when litellm lists a price of their own."""
    reasoning: bool | None
    tools: bool | None
    vision: bool | None
    licence: Licence
    summary: str = ""
    """What a built-in model does, or litellm's mode ("chat", "embedding", …)."""
    builtin: bool = False
    in_table: bool = False
    """Whether litellm's table has an entry of the model's own."""

    @property
    def unlimited(self) -> bool:
        """A built-in simulator: any prompt fits and any answer length is taken."""
        return self.builtin and self.context_window is None


def _flag(entry: Mapping[str, Any], name: str) -> bool | None:
    value = entry.get(name)
    return value if isinstance(value, bool) else None


def _tokens(entry: Mapping[str, Any], name: str) -> int | None:
    value = entry.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _price(
    model: str,
    entry: Mapping[str, Any] | None,
    stored: PriceTable,
    configured: Mapping[str, PriceOverride],
    day: str,
) -> tuple[Price | None, str]:
    # The gateway's order: the prices table's entry of the day wins over the config's (which
    # applies from the beginning of time), both over the simulators' own and litellm's table.
    price = stored.price(model, day)
    if price is not None:
        return price, "prices table"
    if model in configured:
        override = configured[model]
        return Price(override.input, override.output, override.cached), "config"
    if model in SIMULATOR_PRICES:
        return SIMULATOR_PRICES[model], "built-in"
    if entry is not None:
        price = entry_price(entry)
        if price is not None:
            return price, "litellm"
    return None, ""


def model_facts(
    models: Iterable[str],
    *,
    table: Mapping[str, Any],
    stored_prices: PriceTable,
    configured_prices: Mapping[str, PriceOverride],
    day: str,
) -> dict[str, ModelFacts]:
    """The facts of each model, priced as of `day` (YYYY-MM-DD)."""
    facts = {}
    for model in models:
        price, source = _price(
            model, table_entry(table, model), stored_prices, configured_prices, day
        )
        builtin = BUILTIN_MODEL_FACTS.get(model)
        if builtin is not None:
            facts[model] = ModelFacts(
                provider=BUILTIN_PROVIDER,
                context_window=builtin.context_window,
                max_output=builtin.max_output,
                price=price,
                price_source=source,
                reasoning_price=None,
                reasoning=False,
                tools=builtin.tools,
                vision=builtin.vision,
                licence=BUILTIN_LICENCE,
                summary=builtin.summary,
                builtin=True,
            )
            continue
        entry = table_entry(table, model) or {}
        reasoning_cost = entry.get("output_cost_per_reasoning_token")
        facts[model] = ModelFacts(
            provider=str(entry.get("litellm_provider", "")),
            context_window=_tokens(entry, "max_input_tokens"),
            max_output=_tokens(entry, "max_output_tokens"),
            price=price,
            price_source=source,
            reasoning_price=(
                reasoning_cost * PER_MILLION if isinstance(reasoning_cost, int | float) else None
            ),
            reasoning=_flag(entry, "supports_reasoning"),
            tools=_flag(entry, "supports_function_calling"),
            vision=_flag(entry, "supports_vision"),
            licence=licence_of(model),
            summary=str(entry.get("mode", "")),
            in_table=bool(entry),
        )
    return facts
