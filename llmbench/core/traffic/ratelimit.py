"""Per-model concurrency caps and requests/tokens-per-minute limits.

Calls beyond a limit wait in a first-come-first-served queue instead of failing, and the time
each waited is returned so the gateway can record it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelLimits:
    concurrency: int | None = None
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None


class TokenBucket:
    """A bucket of `capacity` units refilled continuously at capacity per minute."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("a per-minute limit must be positive")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._level = self.capacity
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay_for(self, amount: float) -> float:
        """Seconds until `amount` units are available (0 when they are now)."""
        self._refill()
        wanted = min(amount, self.capacity)  # a request larger than the bucket waits for a full one
        return max(0.0, (wanted - self._level) / self.rate)

    async def take(self, amount: float) -> None:
        async with self._lock:  # FIFO: one waiter at a time drains the bucket
            while (delay := self.delay_for(amount)) > 0:
                await asyncio.sleep(delay)
            self._level -= min(amount, self.capacity)

    def give_back(self, amount: float) -> None:
        """Return units taken for an over-estimate (or take more for an under-estimate)."""
        self._refill()
        self._level = min(self.capacity, self._level + amount)


class _ModelGate:
    def __init__(self, limits: ModelLimits, clock: Callable[[], float]) -> None:
        self.semaphore = asyncio.Semaphore(limits.concurrency) if limits.concurrency else None
        self.requests = (
            TokenBucket(limits.requests_per_minute, clock) if limits.requests_per_minute else None
        )
        self.tokens = (
            TokenBucket(limits.tokens_per_minute, clock) if limits.tokens_per_minute else None
        )


@dataclass
class Slot:
    waited_s: float
    estimated_tokens: int


class RateLimiter:
    """Gates calls per model. Models with no configured limits pass straight through."""

    def __init__(
        self,
        limits: dict[str, ModelLimits] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits or {})
        self._clock = clock
        self._gates: dict[str, _ModelGate] = {}

    def _gate(self, model: str) -> _ModelGate | None:
        limits = self._limits.get(model)
        if limits is None:
            return None
        gate = self._gates.get(model)
        if gate is None:
            gate = self._gates[model] = _ModelGate(limits, self._clock)
        return gate

    def counts_tokens(self, model: str) -> bool:
        limits = self._limits.get(model)
        return bool(limits and limits.tokens_per_minute)

    @asynccontextmanager
    async def slot(self, model: str, estimated_tokens: int = 0) -> AsyncIterator[Slot]:
        gate = self._gate(model)
        start = self._clock()
        if gate is None:
            yield Slot(0.0, estimated_tokens)
            return
        if gate.semaphore is not None:
            await gate.semaphore.acquire()
        try:
            if gate.requests is not None:
                await gate.requests.take(1)
            if gate.tokens is not None and estimated_tokens:
                await gate.tokens.take(estimated_tokens)
            yield Slot(self._clock() - start, estimated_tokens)
        finally:
            if gate.semaphore is not None:
                gate.semaphore.release()

    def settle(self, model: str, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token bucket once the real usage is known."""
        gate = self._gate(model)
        if gate is not None and gate.tokens is not None:
            gate.tokens.give_back(estimated_tokens - actual_tokens)
