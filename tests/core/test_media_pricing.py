"""Audio tokens at the audio rates and images per image, where a price has rates for them;
everything else (and every price without them) billed as before."""

from __future__ import annotations

import pytest

from llmbench.core.costs.pricing import PER_MILLION, cost_of
from llmbench.core.models import Price, Usage

# gpt-4o-audio-preview's rates in litellm's table: text 2.5 / 10, audio 40 / 80 per million.
AUDIO = Price(input=2.5, output=10.0, cached=2.5, audio_input=40.0, audio_output=80.0)
# gemini-3-pro-image's: 2 / 12 per million tokens, and $0.0011 per input image.
PER_IMAGE = Price(input=2.0, output=12.0, cached=2.0, per_image=0.0011)


def test_audio_tokens_are_billed_at_the_audio_rates() -> None:
    usage = Usage(
        prompt_tokens=1_000, completion_tokens=500, audio_prompt_tokens=400,
        audio_completion_tokens=300,
    )  # fmt: skip
    expected = (600 * 2.5 + 400 * 40.0 + 200 * 10.0 + 300 * 80.0) / PER_MILLION
    assert cost_of(usage, AUDIO) == pytest.approx(expected)
    assert cost_of(usage, AUDIO) == pytest.approx(0.0435)


def test_without_audio_rates_audio_tokens_are_input_and_output() -> None:
    usage = Usage(prompt_tokens=1_000, completion_tokens=500, audio_prompt_tokens=400)
    plain = Price(input=2.5, output=10.0, cached=2.5)
    assert cost_of(usage, plain) == cost_of(Usage(1_000, 500), plain) == pytest.approx(0.0075)


def test_audio_is_never_billed_beyond_the_tokens_it_is_part_of() -> None:
    # 900 of 1000 prompt tokens read from the cache: at most 100 uncached audio tokens remain.
    usage = Usage(
        prompt_tokens=1_000, completion_tokens=100, cached_tokens=900, audio_prompt_tokens=400,
        reasoning_tokens=80, audio_completion_tokens=50,
    )  # fmt: skip
    expected = (100 * 40.0 + 900 * 2.5 + 80 * 10.0 + 20 * 80.0) / PER_MILLION
    assert cost_of(usage, AUDIO) == pytest.approx(expected)


def test_images_priced_per_image_replace_their_tokens() -> None:
    # Gemini's reference answer about one image: 266 prompt tokens, 258 of them the image's.
    usage = Usage(prompt_tokens=266, completion_tokens=13, image_prompt_tokens=258, images=1)
    expected = (8 * 2.0 + 13 * 12.0) / PER_MILLION + 0.0011
    assert cost_of(usage, PER_IMAGE) == pytest.approx(expected) == pytest.approx(0.001272)
    two = Usage(prompt_tokens=524, completion_tokens=13, image_prompt_tokens=516, images=2)
    assert cost_of(two, PER_IMAGE) == pytest.approx((8 * 2.0 + 13 * 12.0) / 1e6 + 0.0022)


def test_images_stay_tokens_when_their_tokens_are_not_known_or_not_priced_per_image() -> None:
    as_tokens = (266 * 2.0 + 13 * 12.0) / PER_MILLION
    unknown = Usage(prompt_tokens=266, completion_tokens=13, images=1)
    assert cost_of(unknown, PER_IMAGE) == pytest.approx(as_tokens)
    by_tokens = Price(input=2.0, output=12.0, cached=2.0)
    known = Usage(prompt_tokens=266, completion_tokens=13, image_prompt_tokens=258, images=1)
    assert cost_of(known, by_tokens) == pytest.approx(as_tokens)
    no_parts = Usage(prompt_tokens=266, completion_tokens=13, image_prompt_tokens=258)
    assert cost_of(no_parts, PER_IMAGE) == pytest.approx(as_tokens)


def test_a_call_without_media_costs_exactly_what_it_did() -> None:
    usage = Usage(prompt_tokens=1_234, completion_tokens=567, cached_tokens=200)
    before = (1_034 * 2.5 + 200 * 2.5 + 567 * 10.0) / PER_MILLION
    assert cost_of(usage, AUDIO) == before
