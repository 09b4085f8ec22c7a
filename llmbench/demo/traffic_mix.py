"""The shape of the demo's production traffic: which features call which models how often, how
big their prompts and answers are, how often a call fails, retries, hits a cache or carries an
injection attempt, how traffic rises and falls over the day and week, and how big the one cost
incident is. Constants and one seasonality curve; traffic.py draws calls from them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llmbench.demo.catalog import HAIKU, SONNET


@dataclass(frozen=True)
class Feature:
    name: str
    team: str
    share: float
    prompt: str | None
    models: tuple[tuple[str, float], ...]
    prompt_tokens: tuple[float, float]  # log-normal (median, sigma)
    completion_tokens: tuple[float, float]
    params: dict[str, Any]
    has_customer: bool = True


FEATURES: tuple[Feature, ...] = (
    Feature(
        "support-chat", "customer-success", 0.32, "support-reply",
        ((SONNET, 0.45), ("gpt-4o", 0.25), ("gpt-4o-mini", 0.30)),
        (1400, 0.45), (190, 0.5), {"temperature": 0.4, "max_tokens": 350},
    ),
    Feature(
        "summarize", "customer-success", 0.18, "summarize-thread",
        (("gpt-4o-mini", 0.6), (HAIKU, 0.25), ("gemini-1.5-flash", 0.15)),
        (3200, 0.6), (150, 0.35), {"temperature": 0.2, "max_tokens": 200},
    ),
    Feature(
        "extract", "finance-ops", 0.14, "extract-invoice",
        (("gpt-4o", 0.5), ("gpt-4o-mini", 0.35), ("gemini-1.5-flash", 0.15)),
        (900, 0.4), (120, 0.3), {"temperature": 0.0, "max_tokens": 300},
    ),
    Feature(
        "classify", "platform", 0.20, "classify-intent",
        ((HAIKU, 0.5), ("gpt-4o-mini", 0.35), ("gemini-1.5-flash", 0.15)),
        (420, 0.35), (14, 0.3), {"temperature": 0.0, "max_tokens": 30},
    ),
    Feature(
        "search-answer", "search", 0.13, None,
        (("gpt-4o", 0.4), (SONNET, 0.3), ("gemini-1.5-flash", 0.3)),
        (2600, 0.5), (210, 0.5), {"temperature": 0.2, "max_tokens": 400},
    ),
    Feature(
        "dev-sandbox", "ml-research", 0.03, None,
        (("llmbench/mock", 0.7), ("llmbench/echo", 0.3)),
        (60, 0.6), (40, 0.5), {"temperature": 1.0}, has_customer=False,
    ),
)  # fmt: skip
FEATURES_BY_NAME = {feature.name: feature for feature in FEATURES}

CACHE_HIT_RATE = 0.06
CACHE_MEMORY = 40  # recent answers per feature and model that a cache hit can replay
RATE_LIMIT_RATE = 0.015
ERROR_RATE = 0.012
TIMEOUT_RATE = 0.006
TIMEOUT_MS = 30_000.0
PROMPT_CACHE_RATE = 0.35  # ok calls whose long system prompt hit the provider's prompt cache
PROMPT_CACHE_FEATURES = ("support-chat", "search-answer", "summarize")
TRUNCATED_SHARE = 0.15  # of answers that reach max_tokens
STAGING_SHARE = 0.1  # calls routed to the staging version while it differs from production
VERSION_MODEL_SHARE = 0.5  # calls on the model the prompt version names
INJECTION_EVERY = 4000  # one injection attempt per this many calls (plus three)
SPIKE_SHARE = 0.003  # of all calls
SPIKE_HOURS = 4
SPIKE_FACTOR = 6.0  # the spike hours spend this many times a typical hour at that time of day
SPIKE_OVER_MAX = 1.5  # ... and at least this many times the costliest ordinary hour
SPIKE_MODEL = "gpt-4o"
HOUR_MS = 3_600_000


def season_weight(moment: datetime, progress: float) -> float:
    """Relative traffic at a UTC hour: business-hours peak, quiet weekends, slow growth."""
    daily = 0.18 + math.exp(-(((moment.hour - 15) / 4.5) ** 2))
    weekday = moment.weekday()
    weekly = 1.0 if weekday < 5 else (0.42 if weekday == 5 else 0.36)
    return daily * weekly * (0.85 + 0.3 * progress)
