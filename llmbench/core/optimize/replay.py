"""Savings replayed offline over a window of calls: an exact cache's hits, and a per-call
saving projected onto a month's volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTH_DAYS = 30


@dataclass(frozen=True)
class Request:
    """One answered call as the replay sees it: when, what it asked (a hash of model, messages
    and params) and what it cost."""

    ts: str  # ISO 8601, UTC
    key: str
    cost: float


@dataclass(frozen=True)
class CacheReplay:
    calls: int
    hits: int
    saved: float  # USD the hits were billed

    @property
    def hit_rate(self) -> float:
        return self.hits / self.calls if self.calls else 0.0


def _when(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def replay_exact_cache(requests: Sequence[Request], ttl_s: float | None = None) -> CacheReplay:
    """Each request in time order: a hit when the same request was answered before (within
    `ttl_s` of that answer when given; a hit does not refresh the entry, as the gateway's
    cache keeps the first answer's time)."""
    stored: dict[str, datetime] = {}
    hits = 0
    saved = 0.0
    for request in sorted(requests, key=lambda item: item.ts):
        when = _when(request.ts)
        first = stored.get(request.key)
        if first is not None and (ttl_s is None or when - first <= timedelta(seconds=ttl_s)):
            hits += 1
            saved += request.cost
            continue
        stored[request.key] = when
    return CacheReplay(len(requests), hits, saved)


def monthly(saving_in_window: float, window_days: float) -> float:
    """A saving over `window_days` of calls, at that volume for MONTH_DAYS."""
    return saving_in_window * MONTH_DAYS / window_days if window_days > 0 else 0.0
