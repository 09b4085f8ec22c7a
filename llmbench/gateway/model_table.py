"""litellm's model table (context windows, prices, what each model supports), read from the
JSON file litellm ships, without importing litellm: its import takes seconds, and the models
view and the F3 picker only need the data.

An entry counts for a model only when it is the model's own: the exact name, or the name
without its `provider/` prefix in an entry of that same provider. A self-hosted
"ollama/gpt-4o" is not OpenAI's gpt-4o, and a bare name the table lacks is unknown, never
guessed from a look-alike.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmbench.core.costs.pricing import PER_MILLION
from llmbench.core.models import Price

TABLE_FILE = "model_prices_and_context_window_backup.json"
# The table's first entry documents the fields rather than a model.
_NOT_MODELS = frozenset({"sample_spec"})


@functools.cache
def bundled_model_table() -> dict[str, Any]:
    """litellm's table as it ships (the same file litellm loads, as LITELLM_LOCAL_MODEL_COST_MAP
    is set); empty when litellm is not installed."""
    spec = importlib.util.find_spec("litellm")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / TABLE_FILE
        if path.exists():
            table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return table
    return {}


def table_entry(table: Mapping[str, Any], model: str) -> Mapping[str, Any] | None:
    """The model's own entry, or None (see the module's rule)."""
    if model in _NOT_MODELS:
        return None
    entry = table.get(model)
    if isinstance(entry, Mapping):
        return entry
    provider, slash, base = model.partition("/")
    if not slash:
        return None
    entry = table.get(base)
    if isinstance(entry, Mapping) and entry.get("litellm_provider") == provider:
        return entry
    return None


def entry_price(entry: Mapping[str, Any]) -> Price | None:
    """USD per million tokens; cached input is billed at the input price when the entry has
    no cached price (as the gateway bills it), cache writes, reasoning and audio likewise."""
    input_cost = entry.get("input_cost_per_token")
    output_cost = entry.get("output_cost_per_token")
    if input_cost is None or output_cost is None:
        return None
    cached_cost = entry.get("cache_read_input_token_cost")
    write_cost = entry.get("cache_creation_input_token_cost")
    reasoning_cost = entry.get("output_cost_per_reasoning_token")
    return Price(
        input=input_cost * PER_MILLION,
        output=output_cost * PER_MILLION,
        cached=(cached_cost if cached_cost is not None else input_cost) * PER_MILLION,
        # Cache writes and reasoning at their own rates where the table has them; else the
        # gateway bills them as input and output.
        cache_write=None if write_cost is None else write_cost * PER_MILLION,
        reasoning=None if reasoning_cost is None else reasoning_cost * PER_MILLION,
        # Audio tokens at their own rates where the table has them; images per image (USD
        # each, not per million) where it prices them so.
        audio_input=_per_million(entry.get("input_cost_per_audio_token")),
        audio_output=_per_million(entry.get("output_cost_per_audio_token")),
        per_image=_number(entry.get("input_cost_per_image")),
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _per_million(value: object) -> float | None:
    number = _number(value)
    return None if number is None else number * PER_MILLION
