"""A small audit log whose every cost breakdown is worked out by hand in the tests.

Eight calls through the one insert path (append_calls); `NOW` is 2025-06-10 12:00 UTC and the
window [2025-06-01, NOW) leaves out the one call of May.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmbench.store.db import Store, open_db
from llmbench.store.prompts.versions import add_version, create_prompt
from tests.support.traffic import write_calls

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
SINCE = "2025-06-01T00:00:00.000Z"
UNTIL = "2025-06-10T12:00:00.000Z"


def _call(n: int, ts: str, model: str, **fields: Any) -> dict[str, Any]:
    return {
        "ts": ts,
        "request_id": f"r{n}",
        "model_requested": model,
        "model": model,
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        **fields,
    }


def build(path: Path) -> tuple[Store, dict[str, int]]:
    store = open_db(path)

    def prompts(db: Any) -> dict[str, int]:
        p = create_prompt(db, "P")
        q = create_prompt(db, "Q")
        return {
            "P1": add_version(db, p, {"task": "a"}),
            "P2": add_version(db, p, {"task": "b"}),
            "Q1": add_version(db, q, {"task": "c"}),
        }

    versions = store.write(prompts)
    write_calls(
        store,
        [
            _call(0, "2025-05-31T23:59:00.000Z", "a", cost=1.0, feature="chat"),
            _call(
                1, "2025-06-02T00:00:00.000Z", "a", provider="openai", feature="search",
                prompt_tokens=10, completion_tokens=1, cost=0.0001,
            ),
            _call(
                2, "2025-06-08T10:00:00.000Z", "a", provider="openai", feature="chat",
                team="t1", customer="c1", task_type="qa", user="u1",
                prompt_version_id=versions["P1"], prompt_tokens=1000, completion_tokens=100,
                cached_tokens=200, cost=0.010,
            ),
            _call(
                3, "2025-06-08T11:00:00.000Z", "a", provider="openai", feature="chat",
                team="t1", customer="c1", user="u2", prompt_version_id=versions["P2"],
                prompt_tokens=500, completion_tokens=50, cost=0.005,
            ),
            _call(
                4, "2025-06-09T09:00:00.000Z", "b", provider="anthropic", feature="search",
                team="t2", customer="c2", task_type="qa", prompt_version_id=versions["Q1"],
                prompt_tokens=2000, completion_tokens=300, cost=0.030, saving=0.002,
            ),
            _call(
                5, "2025-06-09T10:00:00.000Z", "b", provider="anthropic", feature="chat",
                team="t2", prompt_tokens=100, completion_tokens=10, cost=0.001,
            ),
            _call(6, "2025-06-09T11:00:00.000Z", "c", prompt_tokens=300, completion_tokens=30),
            _call(
                7, "2025-06-09T12:00:00.000Z", "b", provider="anthropic", feature="search",
                status="error", error="boom",
            ),
        ],
    )  # fmt: skip
    return store, versions
