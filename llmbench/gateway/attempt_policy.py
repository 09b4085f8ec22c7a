"""What each attempt of a request is, and whether another follows: the fallback chain of a
model and each model's timeout and params from the config, then exponential backoff with full
jitter (never sooner than a provider's Retry-After), and no retry at all when Retry-After is
longer than the configured patience.

Retries belong to the gateway (litellm's are off) so every attempt is recorded.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from llmbench.config import Settings
from llmbench.gateway.errors import Failure

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0


def backoff_delay(retry: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter, and never sooner than Retry-After."""
    jittered = rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (retry - 1)))
    return max(jittered, retry_after or 0.0)


def beyond_patience(failure: Failure, patience: float) -> str | None:
    """Why a failure is not retried when its Retry-After exceeds `patience` (None if it does
    not): said in the attempt's recorded error instead of a long wait."""
    if failure.retry_after_s is not None and failure.retry_after_s > patience:
        return (
            f" [Retry-After {failure.retry_after_s:g} s exceeds the patience of "
            f"{patience:g} s: not retried]"
        )
    return None


def fallback_chain(settings: Settings, model: str) -> list[str]:
    """The model, then the models it falls back to, in order."""
    options = settings.model.get(model)
    return [model, *(options.fallbacks if options else ())]


def model_timeout(settings: Settings, model: str) -> float:
    """The model's own timeout if the config sets one, else the gateway's."""
    options = settings.model.get(model)
    return (options.timeout_s if options and options.timeout_s else None) or (
        settings.gateway.timeout_s
    )


def model_params(
    settings: Settings, model: str, params: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The caller's params, with the model's configured api_base unless they set one."""
    merged = dict(params or {})
    options = settings.model.get(model)
    if options and options.api_base and "api_base" not in merged:
        merged["api_base"] = options.api_base
    return merged
