from __future__ import annotations

import asyncio
import time

import pytest

from llmbench.core.traffic.ratelimit import ModelLimits, RateLimiter, TokenBucket


async def test_unlimited_models_do_not_wait() -> None:
    limiter = RateLimiter({"other": ModelLimits(concurrency=1)})
    async with limiter.slot("free-model", 100) as slot:
        assert slot.waited_s == 0.0


async def test_concurrency_cap_queues_instead_of_failing() -> None:
    limiter = RateLimiter({"m": ModelLimits(concurrency=2)})
    running = peak = 0

    async def call() -> float:
        nonlocal running, peak
        async with limiter.slot("m") as slot:
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05)
            running -= 1
            return slot.waited_s

    waits = await asyncio.gather(*(call() for _ in range(6)))
    assert peak == 2
    assert sorted(waits)[:2] == pytest.approx([0, 0], abs=0.01)
    assert max(waits) >= 0.09  # the last pair waited for two rounds


async def test_requests_per_minute_spaces_calls() -> None:
    # 600 rpm = 10 per second with a burst of 600; drain the burst first.
    limiter = RateLimiter({"m": ModelLimits(requests_per_minute=600)})
    gate = limiter._gate("m")
    assert gate is not None and gate.requests is not None
    gate.requests._level = 0
    start = time.monotonic()
    for _ in range(3):
        async with limiter.slot("m"):
            pass
    assert time.monotonic() - start >= 0.25  # three requests at 10/s need ~0.3 s


def test_token_bucket_arithmetic_with_a_fake_clock() -> None:
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])  # one unit per second, burst 60
    assert bucket.delay_for(60) == 0
    bucket._level = 0
    assert bucket.delay_for(5) == pytest.approx(5.0)
    now[0] = 2.0
    assert bucket.delay_for(5) == pytest.approx(3.0)
    assert bucket.delay_for(500) == pytest.approx(58.0)  # larger than the bucket: waits for full


async def test_settle_returns_over_estimated_tokens() -> None:
    limiter = RateLimiter({"m": ModelLimits(tokens_per_minute=1000)})
    async with limiter.slot("m", estimated_tokens=800):
        pass
    gate = limiter._gate("m")
    assert gate is not None and gate.tokens is not None
    assert gate.tokens._level == pytest.approx(200, abs=5)
    limiter.settle("m", estimated_tokens=800, actual_tokens=100)
    assert gate.tokens._level == pytest.approx(900, abs=5)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
