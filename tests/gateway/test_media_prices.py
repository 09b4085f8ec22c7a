"""Audio and image rates read from litellm's model table, and audio and image tokens read from
each usage shape: OpenAI's chat completion usage (its API reference's `prompt_tokens_details`
and `completion_tokens_details`, each with `audio_tokens`) and litellm's Usage object."""

from __future__ import annotations

import pytest

from llmbench.core.costs.pricing import cost_of
from llmbench.core.models import Usage
from llmbench.gateway.model_prices import price_for
from llmbench.gateway.model_table import bundled_model_table, entry_price, table_entry
from llmbench.gateway.usage_details import TokenDetails, token_details


def test_audio_rates_come_from_the_table() -> None:
    entry = bundled_model_table()["gpt-4o-audio-preview-2024-12-17"]
    price = entry_price(entry)
    assert price is not None
    assert price.audio_input == pytest.approx(entry["input_cost_per_audio_token"] * 1e6)
    assert price.audio_output == pytest.approx(entry["output_cost_per_audio_token"] * 1e6)
    assert price.per_image is None
    # The gateway prices openai/... models by the same entry.
    assert price_for("openai/gpt-4o-audio-preview-2024-12-17") == price


def test_a_price_per_image_comes_from_the_table_in_usd_per_image() -> None:
    table = bundled_model_table()
    entry = table_entry(table, "gemini/gemini-3-pro-image-preview")
    assert entry is not None
    price = entry_price(entry)
    assert price is not None and price.per_image == entry["input_cost_per_image"]
    # Models priced by tokens alone have none.
    plain = entry_price(bundled_model_table()["gpt-4o-mini"])
    assert plain is not None
    assert (plain.per_image, plain.audio_input, plain.audio_output) == (None, None, None)


def test_openai_usage_with_audio_tokens() -> None:
    usage = {
        "prompt_tokens": 1_000,
        "completion_tokens": 500,
        "total_tokens": 1_500,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 400},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 300,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    details = token_details(usage)
    assert details == TokenDetails(0, None, None, 400, 300, None)
    price = price_for("openai/gpt-4o-audio-preview-2024-12-17")
    entry = bundled_model_table()["gpt-4o-audio-preview-2024-12-17"]
    priced = Usage(
        prompt_tokens=1_000,
        completion_tokens=500,
        audio_prompt_tokens=details.audio_prompt_tokens,
        audio_completion_tokens=details.audio_completion_tokens,
    )
    assert cost_of(priced, price) == pytest.approx(
        600 * entry["input_cost_per_token"]
        + 400 * entry["input_cost_per_audio_token"]
        + 200 * entry["output_cost_per_token"]
        + 300 * entry["output_cost_per_audio_token"]
    )


def test_litellms_usage_with_audio_and_image_tokens() -> None:
    from llmbench.gateway.litellm_setup import litellm_module

    litellm = litellm_module()
    usage = litellm.Usage(
        prompt_tokens=300,
        completion_tokens=40,
        total_tokens=340,
        prompt_tokens_details={"audio_tokens": 160, "image_tokens": 130},
        completion_tokens_details={"audio_tokens": 25},
    )
    assert token_details(usage) == TokenDetails(None, None, None, 160, 25, 130)
    # OpenAI's 0 for a model that neither hears nor speaks is no count.
    silent = {"prompt_tokens_details": {"audio_tokens": 0}, "completion_tokens_details": {}}
    assert token_details(silent) == TokenDetails(None, None, None)
