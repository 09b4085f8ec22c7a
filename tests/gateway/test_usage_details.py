"""Reasoning, cache-read and cache-write tokens read from every usage shape the gateway meets,
and priced at litellm's table's own rates for them (else as output and input)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from llmbench.core.costs.pricing import PER_MILLION, cost_of
from llmbench.core.models import Price, Usage
from llmbench.gateway.model_table import bundled_model_table, entry_price, table_entry
from llmbench.gateway.usage_details import TokenDetails, token_details


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # OpenAI's reference (chat completions, o-series with a cached prefix).
        (
            {
                "prompt_tokens": 1117,
                "completion_tokens": 1046,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 960, "audio_tokens": 0},
            },
            TokenDetails(1024, 960, None),
        ),
        # Anthropic's Messages usage: cache reads and writes beside input_tokens.
        (
            {
                "input_tokens": 21,
                "output_tokens": 393,
                "cache_read_input_tokens": 188086,
                "cache_creation_input_tokens": 2051,
            },
            TokenDetails(188086, None, 2051),
        ),
        # The gateway's own flat usage (openai_direct), as objects.
        (
            SimpleNamespace(cached_tokens=3, reasoning_tokens=7, cache_write_tokens=5),
            TokenDetails(3, 7, 5),
        ),
        # 0 reasoning (OpenAI says so for every model that does not reason) and 0 writes.
        (
            {
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
                "cache_creation_input_tokens": 0,
            },
            TokenDetails(0, None, None),
        ),
        # Nothing said: None each, never 0; nonsense counts are not counts.
        ({"prompt_tokens": 10, "completion_tokens": 2}, TokenDetails(None, None, None)),
        (
            {"completion_tokens_details": {"reasoning_tokens": -1}, "cached_tokens": "3"},
            TokenDetails(None, None, None),
        ),
        (None, TokenDetails(None, None, None)),
    ],
)
def test_token_details_from_each_shape(usage: object, expected: TokenDetails) -> None:
    assert token_details(usage) == expected


def test_litellms_usage_object() -> None:
    from llmbench.gateway.litellm_setup import litellm_module

    litellm = litellm_module()
    usage = litellm.Usage(
        prompt_tokens=120,
        completion_tokens=80,
        total_tokens=200,
        prompt_tokens_details={"cached_tokens": 20},
        completion_tokens_details={"reasoning_tokens": 50},
        cache_creation_input_tokens=30,
        cache_read_input_tokens=20,
    )
    assert token_details(usage) == TokenDetails(20, 50, 30)
    assert token_details(litellm.Usage(prompt_tokens=1, completion_tokens=1)) == TokenDetails(
        None, None, None
    )


def test_each_kind_of_token_at_its_own_rate() -> None:
    price = Price(input=2.0, output=8.0, cached=0.5, cache_write=2.5, reasoning=12.0)
    usage = Usage(
        prompt_tokens=1_000,
        completion_tokens=600,
        cached_tokens=300,
        reasoning_tokens=400,
        cache_write_tokens=200,
    )
    # 500 uncached input, 300 read, 200 written; 200 visible output, 400 reasoning.
    expected = (500 * 2.0 + 300 * 0.5 + 200 * 2.5 + 200 * 8.0 + 400 * 12.0) / PER_MILLION
    assert cost_of(usage, price) == pytest.approx(expected)
    # Without rates of their own: writes as input, reasoning as output (as providers bill).
    plain = Price(input=2.0, output=8.0, cached=0.5)
    assert cost_of(usage, plain) == pytest.approx((700 * 2.0 + 300 * 0.5 + 600 * 8.0) / PER_MILLION)
    assert cost_of(Usage(1_000, 600, 300), plain) == cost_of(usage, plain)
    # A count past the completion (a confused provider) never bills negative output.
    odd = Usage(prompt_tokens=10, completion_tokens=5, reasoning_tokens=50)
    assert cost_of(odd, price) == pytest.approx((10 * 2.0 + 5 * 12.0) / PER_MILLION)


def test_litellms_table_rates_are_read() -> None:
    table = bundled_model_table()
    claude = table_entry(table, "anthropic/claude-sonnet-4-5")
    assert claude is not None
    price = entry_price(claude)
    assert price is not None and price.reasoning is None
    assert price.cache_write == pytest.approx(claude["cache_creation_input_token_cost"] * 1e6)
    assert price.cached == pytest.approx(claude["cache_read_input_token_cost"] * 1e6)
    gemini = table_entry(table, "gemini/gemini-2.5-flash")
    assert gemini is not None
    price = entry_price(gemini)
    assert price is not None
    assert price.reasoning == pytest.approx(gemini["output_cost_per_reasoning_token"] * 1e6)
    # An entry without them: None, billed as input and output.
    entry = {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
    assert entry_price(entry) == Price(1.0, 2.0, 1.0)
