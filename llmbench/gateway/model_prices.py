"""A model's unit prices from litellm's table: only an explicit entry of the same provider
counts, never a guess; the built-in simulator's models have prices of their own.

For openai/... models called directly (litellm not imported), the table is read from the file
litellm ships, without importing litellm.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmbench.core.costs.pricing import PER_MILLION, SIMULATOR_PRICES
from llmbench.core.models import Price
from llmbench.gateway import openai_direct
from llmbench.gateway.call_arguments import load_litellm, provider_of


def _price_from_entry(entry: Mapping[str, Any]) -> Price | None:
    input_cost = entry.get("input_cost_per_token")
    output_cost = entry.get("output_cost_per_token")
    if input_cost is None or output_cost is None:
        return None
    cached_cost = entry.get("cache_read_input_token_cost")
    return Price(
        input=input_cost * PER_MILLION,
        output=output_cost * PER_MILLION,
        cached=(cached_cost if cached_cost is not None else input_cost) * PER_MILLION,
    )


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


@functools.cache
def _bundled_price_table() -> dict[str, Any]:
    """litellm's price table, read from the file it ships without importing litellm (the
    same file litellm loads, as LITELLM_LOCAL_MODEL_COST_MAP is set)."""
    spec = importlib.util.find_spec("litellm")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "model_prices_and_context_window_backup.json"
        if path.exists():
            table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return table
    return {}


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
