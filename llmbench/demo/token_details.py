"""Reasoning and cache-write tokens in the demo's traffic (m014): a share of the invoice
extraction on gpt-4o moved to o3-mini, whose answers reason first (reasoning tokens, part of the
completion and billed with it), and Claude's prompt-cache misses, which write the long static
prefix to Anthropic's cache (billed as input at the demo's prices, which have no write rate).

Drawn from a stream of its own, after the traffic and the conversations: the calls of the last
days are left alone, so the newest calls F6 opens on stay what they were."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.demo.records import DemoClock, iso_ms
from llmbench.demo.traffic_mix import PROMPT_CACHE_FEATURES

Row = dict[str, Any]

REASONING_MODEL = "o3-mini"
REASONING_FEATURE = "extract"
REASONING_FROM = "gpt-4o"
REASONING_SHARE = 0.15  # of that feature's answered calls on REASONING_FROM
REASONING_FACTOR = (1.5, 4.0)  # reasoning tokens per visible completion token
CACHE_WRITE_SHARE = (0.5, 0.85)  # of the prompt: the static prefix a miss writes
REASONING_MS_PER_TOKEN = 4.0
RECENT_DAYS = 3


def _answered(row: Row, cutoff: str) -> bool:
    return (
        row.get("status") == "ok"
        and row.get("attempt") == 1
        and row.get("run") is None
        and row.get("conversation_id") is None
        and row["ts"] < cutoff
    )


def add_token_details(
    rng: random.Random, calls: Sequence[Row], clock: DemoClock, prices: PriceTable
) -> tuple[int, int]:
    """Give some of `calls` reasoning or cache-write tokens; how many of each."""
    cutoff = iso_ms(clock.now - timedelta(days=RECENT_DAYS))
    reasoned = written = 0
    for row in calls:
        if not _answered(row, cutoff):
            continue
        if (
            row.get("feature") == REASONING_FEATURE
            and row["model"] == REASONING_FROM
            and rng.random() < REASONING_SHARE
        ):
            _reason(rng, row, prices)
            reasoned += 1
        elif (
            row.get("provider") == "anthropic"
            and row.get("feature") in PROMPT_CACHE_FEATURES
            and not row.get("cached_tokens")
            and int(row.get("prompt_tokens") or 0) >= 1024
        ):
            prompt = int(row["prompt_tokens"])
            row["cache_write_tokens"] = int(prompt * rng.uniform(*CACHE_WRITE_SHARE)) // 128 * 128
            written += 1
    return reasoned, written


def _reason(rng: random.Random, row: Row, prices: PriceTable) -> None:
    visible = int(row.get("completion_tokens") or 0)
    reasoning = max(64, int(visible * rng.uniform(*REASONING_FACTOR)))
    usage = Usage(
        prompt_tokens=int(row.get("prompt_tokens") or 0),
        completion_tokens=visible + reasoning,
        cached_tokens=int(row.get("cached_tokens") or 0),
        reasoning_tokens=reasoning,
    )
    price = prices.price(REASONING_MODEL, row["ts"])
    # It reasons before its first visible token.
    thinking_ms = reasoning * REASONING_MS_PER_TOKEN
    for column in ("latency_ms", "ttft_ms"):
        if row.get(column) is not None:
            row[column] = round(row[column] + thinking_ms, 1)
    row.update(
        model_requested=REASONING_MODEL,
        model=REASONING_MODEL,
        provider="openai",
        completion_tokens=usage.completion_tokens,
        reasoning_tokens=reasoning,
        cost=texts.call_cost(usage, price),
        **texts.unit_prices(price),
    )
