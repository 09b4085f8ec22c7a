from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.core.stats import log_histogram, percentile, percentiles


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 101))
    assert percentiles(reversed(values), [0.5, 0.95, 0.99, 1.0]) == [50, 95, 99, 100]
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


@given(st.lists(st.floats(0, 1e6), min_size=1), st.floats(0, 1))
def test_a_percentile_is_one_of_the_values_and_has_that_share_at_or_below(
    values: list[float], fraction: float
) -> None:
    ordered = sorted(values)
    found = percentile(ordered, fraction)
    assert found in values
    assert sum(v <= found for v in values) >= fraction * len(values)


def test_log_histogram_spreads_log_normal_counts() -> None:
    values = [10, 100, 100, 1000, 0]
    histogram = log_histogram(values, bins=2)
    assert histogram.counts == (1, 3) and histogram.total == 4  # zero has no log: left out
    assert math.isclose(histogram.edges[0], 10) and math.isclose(histogram.edges[-1], 1000)
    assert log_histogram([5, 5], bins=4).counts == (2,)
    assert log_histogram([], bins=4).counts == ()


@given(st.lists(st.integers(1, 100_000), min_size=1), st.integers(1, 30))
def test_every_positive_value_lands_in_one_bin(values: list[int], bins: int) -> None:
    assert log_histogram(values, bins).total == len(values)
