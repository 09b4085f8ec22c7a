"""Held day sums stay exact: new calls (even with old timestamps) are added, partial days are
read directly, and a purge of old calls makes them read again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.costs import breakdowns as costs
from llmbench.services.costs import window_sums as costs_cache
from llmbench.store.audit.log import database_id, plan_purge, purge
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.db import Store
from tests.support import cost_fixture
from tests.support.traffic import write_calls

UNTIL = "2025-06-10T12:00:00.000Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store, _ = cost_fixture.build(tmp_path / "costs.db")
    yield store
    store.close()


def _figures(store: Store, since: str) -> list[tuple[str, int, float]]:
    data = costs.breakdown(store, ["feature", "day"], since, UNTIL)
    return [
        (f"{row.label}/{child.label}", child.figures.calls, round(child.figures.cost, 10))
        for row in data.rows
        for child in row.children
    ]


def _fresh(store: Store, since: str) -> list[tuple[str, int, float]]:
    costs_cache.forget(store)
    return _figures(store, since)


def _call(n: int, ts: str, feature: str, cost: float) -> dict[str, object]:
    return {"ts": ts, "request_id": f"late-{n}", "model_requested": "a", "model": "a",
            "status": "ok", "feature": feature, "cost": cost}  # fmt: skip


@pytest.mark.parametrize("since", ["2025-06-01T00:00:00.000Z", "2025-06-02T06:00:00.000Z"])
def test_new_calls_and_partial_days_match_a_fresh_read(store: Store, since: str) -> None:
    before = _figures(store, since)
    assert before == _fresh(store, since)
    _figures(store, since)  # held again
    write_calls(
        store,
        [
            _call(1, "2025-06-10T11:00:00.000Z", "chat", 0.5),  # today, the partial last day
            _call(2, "2025-06-03T08:00:00.000Z", "chat", 0.25),  # an import of an old call
            _call(3, "2025-06-02T05:00:00.000Z", "search", 0.125),  # partial first day (06:00)
        ],
    )
    after = _figures(store, since)
    assert after == _fresh(store, since)
    assert ("chat/2025-06-10", 1, 0.5) in after
    assert ("chat/2025-06-03", 1, 0.25) in after
    search_first_day = [row for row in after if row[0] == "search/2025-06-02"]
    expected_calls = 2 if since.startswith("2025-06-01") else 0  # 00:00 and 05:00 < 06:00
    assert sum(row[1] for row in search_first_day) == expected_calls


def test_a_purge_of_old_calls_is_noticed(store: Store) -> None:
    since = "2025-06-01T00:00:00.000Z"
    _figures(store, since)
    key = load_chain_key(database_id(store.read()))
    store.write(lambda db: purge(db, key, plan_purge(db, "2025-06-05T00:00:00.000Z", None), "test"))
    after = _figures(store, since)
    assert after == _fresh(store, since)
    assert not any(label.endswith("2025-06-02") for label, _, _ in after)


def _rounded(rows: list) -> list[tuple]:
    return sorted(
        (tuple(str(key) for key in row.keys), row.day, row.calls, row.prompt_tokens,
         row.completion_tokens, row.cached_tokens, round(row.cost, 10), round(row.saving, 10),
         row.unpriced)
        for row in rows
    )  # fmt: skip


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2025-06-02T06:00:00.000Z", UNTIL),  # little before the window on day one: subtract
        ("2025-06-02T00:00:00.000Z", UNTIL),
        ("2025-06-01T18:00:00.000Z", UNTIL),  # most of day one before it: read the rest
        ("2025-06-01T00:00:00.000Z", "2025-06-09T10:30:00.000Z"),  # later calls exist
        ("2025-06-01T00:00:00.000Z", "2025-06-09T00:00:00.000Z"),  # ends at a midnight
        ("2025-06-08T10:30:00.000Z", "2025-06-08T12:00:00.000Z"),  # within one day
    ],
)
def test_held_sums_equal_a_direct_read_for_any_window(store: Store, since: str, until: str) -> None:
    write_calls(
        store,
        [
            _call(4, "2025-06-01T20:00:00.000Z", "night", 0.0625),
            _call(5, "2025-06-02T03:00:00.000Z", "early", 0.03125),
            _call(6, "2025-06-09T11:00:00.000Z", "chat", 0.5),
        ],
    )
    for columns in (["feature"], ["model", "team"], []):
        costs_cache.forget(store)
        costs_cache.grouped(store, columns, "2025-06-01T00:00:00.000Z", UNTIL)  # held first
        held = costs_cache.grouped(store, columns, since, until)
        direct = costs_repo.grouped(store.read(), columns, since, until)
        assert _rounded(held) == _rounded(direct), columns
