"""Synthetic production traffic for Monitor and retention tests: calls appended through the
audit log's one insert path (sealed onto the chain with this machine's key), plus feedback."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.feedback import add_feedback
from llmbench.store.audit.log import append_calls, database_id
from llmbench.store.db import Store
from llmbench.store.views import to_iso


def daily_calls(
    now: datetime,
    *,
    days: int = 30,
    per_day: int = 120,
    model: str = "gpt-4o",
    latency_ms: float = 1000.0,
    slower_after_day: int | None = None,
    slowdown: float = 1.3,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """`per_day` calls on each of the last `days` days (day 0 the oldest), in time order; after
    `slower_after_day` every latency is multiplied by `slowdown`."""
    rng = random.Random(seed)
    start = now - timedelta(days=days)
    calls = []
    for day in range(days):
        for n in range(per_day):
            moment = start + timedelta(days=day, seconds=(n + 0.5) * 86_400 / per_day)
            slow = slowdown if slower_after_day is not None and day > slower_after_day else 1.0
            status = "error" if n % 50 == 0 else "ok"
            calls.append(
                {
                    "ts": to_iso(moment),
                    "request_id": f"req-{day}-{n}",
                    "model_requested": model,
                    "model": model,
                    "messages": json.dumps([{"role": "user", "content": f"day {day} call {n}"}]),
                    "response": None if status == "error" else f"answer {n}",
                    "error": "boom" if status == "error" else None,
                    "status": status,
                    "prompt_tokens": rng.randint(200, 2000),
                    "completion_tokens": rng.randint(20, 300),
                    "cost": 0.001,
                    "latency_ms": latency_ms * slow * rng.lognormvariate(0, 0.05),
                    "ttft_ms": 200.0,
                }
            )
    return calls


def write_calls(store: Store, calls: list[dict[str, Any]]) -> list[int]:
    key = load_chain_key(database_id(store.read()))
    return store.write(lambda db: append_calls(db, key, calls))


def add_thumbs(store: Store, call_ids: list[int], up_share: float, seed: int = 2) -> None:
    rng = random.Random(seed)

    def job(db: Any) -> None:
        for call_id in call_ids:
            add_feedback(db, call_id, "thumbs", 1.0 if rng.random() < up_share else -1.0)

    store.write(job)
