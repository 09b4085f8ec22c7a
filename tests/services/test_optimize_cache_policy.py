"""The exact-cache candidate shipped (services/optimize/shipping.ship_cache): the prompt gets a
cache policy (m021) in the same transaction as its optimizations row, the SDK's calls of that
prompt then use the gateway's exact cache unless a call says otherwise, and the realised saving
counts the calls the cache answered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.services.optimize.candidates import OptimizeError, find_candidates
from llmbench.services.optimize.shipping import realised, ship_cache
from llmbench.services.sdk import Bench
from llmbench.store.cache_policies import clear_policy, policy_for
from llmbench.store.db import Store, open_db
from llmbench.store.optimizations import shipped
from tests.support.optimize_traffic import SETTINGS, add_prompt, triage_calls
from tests.support.traffic import write_calls

NOW = datetime(2025, 6, 30, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with open_db(path) as opened:
        version = add_prompt(opened)
        write_calls(opened, triage_calls(version, 40, repeats=10))
        yield opened


def test_shipping_sets_the_policy_and_records_the_projection(store: Store) -> None:
    found = find_candidates(store, "triage", now=NOW)
    cache = next(c for c in found.candidates if c.kind == "exact_cache")
    assert cache.hit_rate == pytest.approx(10 / 40)
    result = ship_cache(store, found, cache, by="maria.chen")
    assert (result.label_move_id, result.route) == (None, "")
    assert policy_for(store.read(), "triage") == "exact"
    [row] = shipped(store.read())
    assert (row.id, row.kind, row.title) == (result.optimization_id, "exact_cache", cache.title)
    assert row.projected_monthly == cache.projected_monthly and row.run_id is None
    assert row.baseline_cost_per_call == pytest.approx(found.cost_per_call)
    assert policy_for(store.read(), "no-such-prompt") is None
    compression = next(c for c in found.candidates if c.kind == "compression")
    with pytest.raises(OptimizeError, match="not a cache policy"):
        ship_cache(store, found, compression)


def test_the_sdk_uses_the_policy_and_realised_counts_the_hits(store: Store, path: Path) -> None:
    found = find_candidates(store, "triage", now=NOW)
    cache = next(c for c in found.candidates if c.kind == "exact_cache")
    ship_cache(store, found, cache)
    bench = Bench(db=path, settings=SETTINGS)
    try:
        first = bench.complete("triage", variables={"ticket": "my parcel is late"})
        again = bench.complete("triage", variables={"ticket": "my parcel is late"})
        opted_out = bench.complete("triage", variables={"ticket": "my parcel is late"}, cache=False)
        plain = bench.complete("llmbench/echo", [{"role": "user", "content": "hi"}])
        plain_again = bench.complete("llmbench/echo", [{"role": "user", "content": "hi"}])
    finally:
        bench.close()
    assert (first.cache, again.cache, opted_out.cache) == (None, "exact", None)
    assert again.text == first.text
    assert (plain.cache, plain_again.cache) == (None, None)  # a bare model has no policy
    rows = (
        store.read()
        .execute(
            "SELECT status, cost FROM calls WHERE prompt_version_id = ? AND id > 40 ORDER BY id",
            [found.version.id],
        )
        .fetchall()
    )
    assert [status for status, _ in rows] == ["ok", "cache_hit", "ok"]
    [tracked] = realised(store)
    assert tracked.calls == 3  # the hit is counted, at no cost
    paid = sum(cost or 0.0 for _, cost in rows)
    days = max(
        (datetime.now(UTC) - datetime.fromisoformat(tracked.shipped.shipped_at)).total_seconds()
        / 86400,
        1 / 24,
    )
    expected = (3 * found.cost_per_call - paid) * 30 / days
    assert tracked.realised_monthly == pytest.approx(expected, rel=0.05)
    store.write(lambda db: clear_policy(db, found.prompt.id))
    assert policy_for(store.read(), "triage") is None
