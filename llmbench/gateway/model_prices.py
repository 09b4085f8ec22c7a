"""A model's unit prices from litellm's table: only an explicit entry of the same provider
counts, never a guess; the built-in simulator's models have prices of their own.

For openai/... models called directly (litellm not imported), the table is read from the file
litellm ships, without importing litellm.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from llmbench.core.costs.pricing import SIMULATOR_PRICES
from llmbench.core.models import Price
from llmbench.gateway import openai_direct
from llmbench.gateway.call_arguments import load_litellm, provider_of

# The file litellm ships, read without importing litellm, and one entry's unit prices.
from llmbench.gateway.model_table import bundled_model_table as _bundled_price_table
from llmbench.gateway.model_table import entry_price as _price_from_entry


def price_in_table(
    table: Mapping[str, Mapping[str, Any]], model: str, provider: str, answered: str | None = None
) -> Price | None:
    """The unit prices from an explicit entry of litellm's table, only of the same provider: a
    self-hosted "gpt-4o-mini" is not billed at OpenAI's price, whatever name the server answers
    with; and litellm's get_model_info() answers 0 for some models it does not list, which
    would be a silent 0."""
    if model in table:
        return _price_from_entry(table[model])
    base = model.split("/", 1)[1] if provider and model.startswith(f"{provider}/") else model
    names = [f"{provider}/{base}", base]
    if answered:
        names += [f"{provider}/{answered}", answered]
    for name in names:
        entry = table.get(name)
        if entry is not None and entry.get("litellm_provider") == provider:
            return _price_from_entry(entry)
    return None


def litellm_price(model: str, answered_model: str | None = None) -> Price | None:
    if openai_direct.handles(model) and "litellm" not in sys.modules:
        return price_in_table(_bundled_price_table(), model, "openai", answered_model)
    provider = provider_of(model)
    if provider is None:
        return None
    return price_in_table(load_litellm().model_cost, model, provider, answered_model)


def price_for(model: str, answered_model: str | None = None) -> Price | None:
    if model in SIMULATOR_PRICES:
        return SIMULATOR_PRICES[model]
    return litellm_price(model, answered_model)
