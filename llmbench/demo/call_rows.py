"""The audit-log rows of one request's outcome: answered (possibly cut off or prompt-cached),
replayed from the cache, failed, rate limited and retried, timed out and answered by the
fallback model. Keeps the recent answers that cache hits replay."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.demo.catalog import ERRORS, FALLBACKS, PROVIDERS, RATE_LIMIT_ERRORS
from llmbench.demo.records import DemoClock, iso_from_ms
from llmbench.demo.traffic_mix import (
    CACHE_MEMORY,
    PROMPT_CACHE_FEATURES,
    PROMPT_CACHE_RATE,
    TIMEOUT_MS,
    TRUNCATED_SHARE,
    Feature,
)

Row = dict[str, Any]


class CallRows:
    """Turns a request (the `base` dict Traffic draws) into the rows its outcome writes, drawing
    from the traffic's seeded stream."""

    def __init__(self, rng: random.Random, clock: DemoClock, prices: PriceTable) -> None:
        self.rng = rng
        self.clock = clock
        self.prices = prices
        # Recent answers per (feature, model), which cache hits replay.
        self.answered: dict[tuple[str, str], list[tuple[str, str, Usage]]] = {}

    def row(self, base: Mapping[str, Any], model: str, **values: Any) -> Row:
        feature: Feature = base["feature"]
        price = self.prices.price(model, base["ts"])
        row = {
            "ts": base["ts"],
            "request_id": base["request_id"],
            "attempt": 1,
            "model_requested": base["model"],
            "model": model,
            "provider": PROVIDERS[model],
            "prompt_version": base["prompt_version"],
            "run": None,
            "messages": base["messages"],
            "params": json.dumps(dict(base["params"])),
            "cost": None if price is None else 0.0,  # failed attempts are not billed
            **texts.unit_prices(price),
            "feature": feature.name,
            "team": feature.team,
            "customer": base["customer"],
            "task_type": base["task_type"],
            "user": base["user"],
            "arm": base["arm"],
            "tags": "{}",
        }
        row.update(values)
        return row

    def ok(self, base: Mapping[str, Any], model: str | None = None) -> Row:
        rng = self.rng
        model = model or base["model"]
        usage: Usage = base["usage"]
        completion, finish = usage.completion_tokens, "stop"
        max_tokens = base["params"].get("max_tokens")
        if max_tokens and completion >= max_tokens:
            # Most answers that would run long end early anyway; a few are cut off.
            if rng.random() < TRUNCATED_SHARE:
                completion, finish = int(max_tokens), "length"
            else:
                completion = int(max_tokens * rng.uniform(0.55, 0.97))
        cached = 0
        if (
            base["feature"].name in PROMPT_CACHE_FEATURES
            and usage.prompt_tokens >= 1024
            and PROVIDERS[model] in ("openai", "anthropic")
            and rng.random() < PROMPT_CACHE_RATE
        ):
            cached = int(usage.prompt_tokens * rng.uniform(0.5, 0.85)) // 128 * 128
        usage = Usage(usage.prompt_tokens, completion, cached)
        ttft, latency = texts.timing(rng, model, usage)
        answered = self.answered.setdefault((base["feature"].name, model), [])
        if len(answered) < CACHE_MEMORY:
            answered.append(
                (base["messages"], base["response"], Usage(usage.prompt_tokens, completion))
            )
        else:
            answered[rng.randrange(CACHE_MEMORY)] = (
                base["messages"],
                base["response"],
                Usage(usage.prompt_tokens, completion),
            )
        return self.row(
            base,
            model,
            response=base["response"],
            finish_reason=finish,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=cached,
            latency_ms=latency,
            ttft_ms=ttft,
            status="ok",
            cost=texts.call_cost(usage, self.prices.price(model, base["ts"])),
        )

    def cache_hit(self, base: Mapping[str, Any]) -> Row:
        """An exact-match cache hit replays an earlier answer to the same request."""
        earlier = self.answered.get((base["feature"].name, base["model"]))
        if earlier:
            messages, response, usage = self.rng.choice(earlier)
            base = {**base, "messages": messages, "response": response, "usage": usage}
        usage = base["usage"]
        would_have_cost = texts.call_cost(usage, self.prices.price(base["model"], base["ts"]))
        latency = round(self.rng.uniform(2.0, 25.0), 1)
        return self.row(
            base,
            base["model"],
            response=base["response"],
            finish_reason="stop",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=0.0,
            saving=would_have_cost or 0.0,
            latency_ms=latency,
            ttft_ms=latency,
            status="cache_hit",
            tags=json.dumps({"cache": "exact"}),
        )

    def error(self, base: Mapping[str, Any]) -> Row:
        kind, text = self.rng.choice(ERRORS[PROVIDERS[base["model"]]])
        return self.row(
            base,
            base["model"],
            latency_ms=round(texts.lognormal(self.rng, 900.0, 0.6), 1),
            status="error",
            error_kind=kind,
            error=text,
        )

    def rate_limited(self, base: Mapping[str, Any], stamp: int) -> list[Row]:
        wait_ms = self.rng.randint(150, 4000)
        template = RATE_LIMIT_ERRORS[PROVIDERS[base["model"]]]
        first = self.row(
            base,
            base["model"],
            latency_ms=round(self.rng.uniform(60.0, 240.0), 1),
            status="rate_limited",
            error_kind="rate_limit",
            error=template.format(
                model=base["model"], tokens=base["usage"].prompt_tokens, wait=wait_ms
            ),
            tags=json.dumps({"retry_after_ms": wait_ms}),
        )
        retry = self.ok({**base, "ts": self._later(stamp, wait_ms + 250)})
        retry["attempt"] = 2
        return [first, retry]

    def timeout(self, base: Mapping[str, Any], stamp: int) -> list[Row]:
        first = self.row(
            base,
            base["model"],
            latency_ms=TIMEOUT_MS,
            status="timeout",
            error_kind="timeout",
            error=f"litellm.Timeout: Request to {base['model']} timed out after 30.0 seconds",
        )
        fallback = FALLBACKS[base["model"]]
        retry = self.ok({**base, "ts": self._later(stamp, int(TIMEOUT_MS) + 40)}, fallback)
        retry["attempt"] = 2
        retry["tags"] = json.dumps({"fallback_from": base["model"]})
        return [first, retry]

    def _later(self, stamp: int, delay_ms: int) -> str:
        return iso_from_ms(min(stamp + delay_ms, self.clock.end_ms - 1))
