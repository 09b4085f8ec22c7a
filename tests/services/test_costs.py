"""Every cost breakdown against figures worked out by hand from tests/support/cost_fixture.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmbench.core.models import Price
from llmbench.services.costs import breakdowns as costs
from llmbench.store.db import Store
from tests.support import cost_fixture
from tests.support.cost_fixture import SINCE, UNTIL

U = costs.UNTAGGED


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store, _ = cost_fixture.build(tmp_path / "costs.db")
    yield store
    store.close()


def _top(data: costs.Breakdown) -> list[tuple[str, int, float]]:
    return [(row.label, row.figures.calls, round(row.figures.cost, 10)) for row in data.rows]


EXPECTED: dict[str, list[tuple[str, int, float]]] = {
    "model": [("b", 3, 0.031), ("a", 3, 0.0151), ("c", 1, 0.0)],
    "provider": [("anthropic", 3, 0.031), ("openai", 3, 0.0151), (U, 1, 0.0)],
    "feature": [("search", 3, 0.0301), ("chat", 3, 0.016), (U, 1, 0.0)],
    "team": [("t2", 2, 0.031), ("t1", 2, 0.015), (U, 3, 0.0001)],
    "customer": [("c2", 1, 0.03), ("c1", 2, 0.015), (U, 4, 0.0011)],
    "task_type": [("qa", 2, 0.04), (U, 5, 0.0061)],
    "user": [(U, 5, 0.0311), ("u1", 1, 0.01), ("u2", 1, 0.005)],
    "prompt": [("Q", 1, 0.03), ("P", 2, 0.015), (U, 4, 0.0011)],
    "version": [("Q v1", 1, 0.03), ("P v1", 1, 0.01), ("P v2", 1, 0.005), (U, 4, 0.0011)],
    "day": [("2025-06-02", 1, 0.0001), ("2025-06-08", 2, 0.015), ("2025-06-09", 4, 0.031)],
    "week": [("2025-W23", 3, 0.0151), ("2025-W24", 4, 0.031)],
    "month": [("2025-06", 7, 0.0461)],
    "conversation": [(U, 7, 0.0461)],  # the fixture has none: tests/tui/test_costs_conversations
}


@pytest.mark.parametrize("dimension", costs.DIMENSIONS)
def test_each_dimension_matches_the_hand_computed_breakdown(store: Store, dimension: str) -> None:
    data = costs.breakdown(store, [dimension], SINCE, UNTIL)
    assert _top(data) == EXPECTED[dimension]
    assert sum(row.figures.calls for row in data.rows) == 7  # May's call is outside the window


def test_totals_tokens_share_and_cost_per_call(store: Store) -> None:
    data = costs.breakdown(store, ["feature"], SINCE, UNTIL)
    total = data.total
    assert (total.calls, total.prompt_tokens, total.completion_tokens, total.cached_tokens) == (
        7,
        3910,
        491,
        200,
    )
    assert total.cost == pytest.approx(0.0461)
    assert total.saving == pytest.approx(0.002)
    assert total.unpriced == 1  # model c answered without a price; the error is not counted
    search, chat, untagged = data.rows
    assert (search.figures.prompt_tokens, search.figures.completion_tokens) == (2010, 301)
    assert chat.figures.cached_tokens == 200
    assert search.share == pytest.approx(0.0301 / 0.0461)
    assert chat.figures.cost_per_call == pytest.approx(0.016 / 3)
    assert untagged.share == 0.0


def test_two_levels_nest_the_second_dimension_under_the_first(store: Store) -> None:
    data = costs.breakdown(store, ["feature", "model"], SINCE, UNTIL)
    nested = {row.label: _top(replace(data, rows=row.children)) for row in data.rows}
    assert nested == {
        "search": [("b", 2, 0.03), ("a", 1, 0.0001)],
        "chat": [("a", 2, 0.015), ("b", 1, 0.001)],
        U: [("c", 1, 0.0)],
    }
    # Children's shares are of the whole window, so they add up to their parent's.
    for row in data.rows:
        assert sum(child.share or 0 for child in row.children) == pytest.approx(row.share or 0)


def test_filters_keep_one_value_untagged_included(store: Store) -> None:
    chat = costs.breakdown(store, ["model"], SINCE, UNTIL, {"feature": "chat"})
    assert _top(chat) == [("a", 2, 0.015), ("b", 1, 0.001)]
    untagged = costs.breakdown(store, ["model"], SINCE, UNTIL, {"feature": None})
    assert _top(untagged) == [("c", 1, 0.0)]
    prompt = costs.breakdown(store, ["version"], SINCE, UNTIL, {"prompt": "P"})
    assert _top(prompt) == [("P v1", 1, 0.01), ("P v2", 1, 0.005)]
    with pytest.raises(ValueError, match="cannot filter"):
        costs.breakdown(store, ["model"], SINCE, UNTIL, {"day": "2025-06-02"})


def test_sparklines_cover_the_last_thirty_days_even_past_the_window(store: Store) -> None:
    data = costs.breakdown(store, ["feature"], SINCE, UNTIL)
    assert data.spark_days[0] == "2025-05-12" and data.spark_days[-1] == "2025-06-10"
    chat = next(row for row in data.rows if row.label == "chat")
    daily = dict(zip(data.spark_days, chat.daily, strict=True))
    assert daily["2025-05-31"] == pytest.approx(1.0)  # before the window, still its history
    assert daily["2025-06-08"] == pytest.approx(0.015)
    assert daily["2025-06-09"] == pytest.approx(0.001)
    assert sum(chat.daily) == pytest.approx(1.016)
    assert sum(data.total_daily) == pytest.approx(1.0461)


def test_reprice_recomputes_each_row_at_todays_prices(store: Store) -> None:
    prices = {"a": Price(input=1.0, output=2.0, cached=0.5)}
    data = costs.breakdown(store, ["model"], SINCE, UNTIL, prices=prices.get)
    by_model = {row.label: row.figures for row in data.rows}
    # call 1: 10 in + 1 out; call 2: 800 uncached + 200 cached + 100 out; call 3: 500 + 50 out.
    assert by_model["a"].repriced == pytest.approx((10 + 2 + 800 + 100 + 200 + 500 + 100) / 1e6)
    assert by_model["b"].repriced is None  # no price today: not a silent zero
    assert by_model["a"].cost == pytest.approx(0.0151)


def test_parse_by_and_window() -> None:
    assert costs.parse_by("feature, model") == ("feature", "model")
    assert costs.parse_by("task") == ("task_type",)
    for bad in ("", "a,b,c", "colour", "model,model"):
        with pytest.raises(ValueError):
            costs.parse_by(bad)
    assert costs.window("2025-06-01", "2025-06-09", cost_fixture.NOW) == (
        "2025-06-01T00:00:00.000Z",
        "2025-06-10T00:00:00.000Z",
    )
    assert costs.window("1d", None, cost_fixture.NOW) == (
        "2025-06-09T12:00:00.000Z",
        "2025-06-10T12:00:00.000Z",
    )
    with pytest.raises(ValueError):
        costs.window("yesterday", None, cost_fixture.NOW)


def test_unpriced_models_from_a_breakdown_match_the_direct_read(store: Store) -> None:
    data = costs.breakdown(store, ["feature", "model"], SINCE, UNTIL)
    assert costs.unpriced_models(store, SINCE, UNTIL, data) == [("c", 1, 300, 30)]
    assert costs.unpriced_models(store, SINCE, UNTIL) == [("c", 1, 300, 30)]
    by_team = costs.breakdown(store, ["team"], SINCE, UNTIL)  # no model level: read per model
    assert costs.unpriced_models(store, SINCE, UNTIL, by_team) == [("c", 1, 300, 30)]
