"""F2's figures of a version (calls, errors, mean tokens, cost per call, latency p50/p95) equal
the same figures computed straight from the version's calls, whatever mix of statuses, missing
prices and missing latencies they have; and they are read without a single call row, so a
version of a million calls is described as fast as one of ten."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions
from llmbench.store.prompts.library import version_metrics
from tests.store.test_rollups import as_call, write

call_strategy = st.fixed_dictionaries(
    {
        "minutes": st.integers(0, 4 * 24 * 60),
        "model": st.sampled_from(["gpt-4o", "claude"]),
        "status": st.sampled_from(["ok", "ok", "ok", "error", "cache_hit", "timeout"]),
        "version": st.sampled_from([0, 1, None]),
        "prompt_tokens": st.integers(0, 5000),
        "completion_tokens": st.integers(0, 800),
        "cost": st.one_of(st.none(), st.floats(0, 2, allow_nan=False)),
        "latency_ms": st.one_of(st.none(), st.floats(1, 60_000, allow_nan=False)),
    }
)


def _versions(store: Store) -> list[int]:
    def job(db: Any) -> list[int]:
        prompt = versions.create_prompt(db, "figures")
        return [versions.add_version(db, prompt, {"task": f"v{n}"}, author="t") for n in (1, 2)]

    return store.write(job)


def _expected(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures by their definition, from the calls themselves."""
    ok = [call for call in calls if call["status"] == "ok"]
    priced = [call["cost"] for call in ok if call["cost"] is not None]
    latencies = sorted(call["latency_ms"] for call in ok if call["latency_ms"] is not None)

    def rank(fraction: float) -> float | None:
        if not latencies:
            return None
        return latencies[max(math.ceil(fraction * len(latencies)), 1) - 1]

    return {
        "calls": len(calls),
        "ok_calls": len(ok),
        "mean_prompt_tokens": sum(c["prompt_tokens"] for c in ok) / len(ok) if ok else None,
        "mean_completion_tokens": sum(c["completion_tokens"] for c in ok) / len(ok) if ok else None,
        "cost_per_call": sum(priced) / len(priced) if priced else None,
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(call_strategy, min_size=1, max_size=15), min_size=1, max_size=3))
def test_a_versions_figures_equal_a_computation_from_its_calls(
    batches: list[list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = open_db(tmp_path_factory.mktemp("figures") / "figures.db")
    try:
        version_ids = _versions(store)
        logged: list[dict[str, Any]] = []
        for batch in batches:
            calls = []
            for fields in batch:
                index = fields.pop("version")
                call = as_call(len(logged) + len(calls), fields)
                call["prompt_version_id"] = None if index is None else version_ids[index]
                calls.append(call)
            write(store, calls)
            logged += calls
        for version_id in version_ids:
            mine = [call for call in logged if call["prompt_version_id"] == version_id]
            metrics = version_metrics(store.read(), version_id)
            found = {name: getattr(metrics, name) for name in _expected(mine)}
            assert found == pytest.approx(_expected(mine), abs=1e-9)
    finally:
        store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "plan.db")
    yield store
    store.close()


def test_the_figures_read_no_call_row(store: Store) -> None:
    traced: list[str] = []
    db = store.read()
    db.conn.set_trace_callback(traced.append)
    try:
        version_metrics(db, 1)
    finally:
        db.conn.set_trace_callback(None)
    plans = []
    for sql in traced:
        if "calls" not in sql or "results" in sql:
            continue  # the evaluation and grade counts read their own small tables
        plan = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        plans += [row[-1] for row in plan]
    assert plans, traced
    for detail in plans:
        # Each step searches an index holding every column it needs, or a rollup table.
        assert "COVERING INDEX" in detail or "rollup_daily" in detail, plans
        assert not detail.startswith("SCAN"), plans
