"""F5's drill-down levels (which grouping and filters lie below a row, what the breadcrumb says,
what the filter keeps) and a budget's limit as typed in the pane's dialog."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.services.costs import budgets
from llmbench.services.costs.breakdown_rows import BreakdownRow, Figures
from llmbench.services.costs.levels import (
    LAST_LEVEL,
    Chosen,
    Level,
    breadcrumb,
    deeper,
    matches,
    top_level,
)
from llmbench.store.db import open_db

FEATURE_MODEL = ("feature", "model")


def _row(label: str, value: str | int | None = "") -> BreakdownRow:
    return BreakdownRow(
        label=label,
        value=label if value == "" else value,
        figures=Figures(calls=1, cost=1.0),
        share=1.0,
        daily=(),
    )


def test_a_feature_goes_down_to_its_models_then_to_days() -> None:
    top = top_level(FEATURE_MODEL)
    assert top == Level(FEATURE_MODEL) and top.depth == 0 and top.filters == {}
    search = _row("search-answer")
    by_model = deeper(top, FEATURE_MODEL, (search,))
    assert by_model == Level(("model",), (Chosen("feature", "search-answer", "search-answer"),))
    by_day = deeper(by_model, FEATURE_MODEL, (_row("gpt-4o"),))  # type: ignore[arg-type]
    assert by_day is not None and by_day.by == LAST_LEVEL
    assert by_day.filters == {"feature": "search-answer", "model": "gpt-4o"}
    # A nested row of the top level goes straight to the same place.
    assert deeper(top, FEATURE_MODEL, (search, _row("gpt-4o"))) == by_day
    # A day has nothing below it but its calls.
    assert deeper(by_day, FEATURE_MODEL, (_row("2025-05-20"),)) is None


def test_untagged_rows_are_followed_as_missing_values_and_periods_end_the_way() -> None:
    top = top_level(("team", "model"))
    untagged = deeper(top, ("team", "model"), (_row("(untagged)", None),))
    assert untagged is not None and untagged.filters == {"team": None}
    assert breadcrumb(untagged) == "team (untagged) › by model"
    assert deeper(top_level(("month",)), ("month",), (_row("2025-05"),)) is None
    assert deeper(top, ("team", "model"), ()) is None
    users = deeper(top_level(("user",)), ("user",), (_row("u-17"),))
    assert users is not None and users.by == LAST_LEVEL


def test_breadcrumb_names_each_step() -> None:
    top = top_level(("task_type", "model"))
    assert breadcrumb(top) == "by task type → model"
    level = Level(
        LAST_LEVEL,
        (Chosen("feature", "search-answer", "search-answer"), Chosen("model", "gpt-4o", "gpt-4o")),
    )
    assert breadcrumb(level) == "feature search-answer › model gpt-4o › by day"


@pytest.mark.parametrize(
    ("text", "name", "kept"),
    [
        ("", "anything", True),
        ("GPT", "gpt-4o-mini", True),
        ("  mini ", "gpt-4o-mini (simulator)", True),
        ("sonnet", "gpt-4o", False),
    ],
)
def test_the_filter_keeps_names_holding_the_text_ignoring_case(
    text: str, name: str, kept: bool
) -> None:
    assert matches(text, name) is kept


@pytest.mark.parametrize(
    ("typed", "limit"), [("100", 100.0), ("$1,250.50", 1250.5), (" 0.5 ", 0.5), ("1e3", 1000.0)]
)
def test_a_typed_limit_reads_as_dollars(typed: str, limit: float) -> None:
    assert budgets.parse_limit(typed) == limit


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "the limit is missing"),
        ("ten", "'ten' is not a number of US dollars"),
        ("0", "above $0"),
        ("-5", "above $0"),
        ("nan", "above $0"),
        ("inf", "above $0"),
    ],
)
def test_a_bad_limit_says_what_a_limit_is(typed: str, said: str) -> None:
    with pytest.raises(ValueError, match=said.replace("$", r"\$")):
        budgets.parse_limit(typed)


def test_set_budget_refuses_a_limit_that_is_not_a_finite_amount(tmp_path: Path) -> None:
    store = open_db(tmp_path / "budgets.db")
    try:
        for limit in (math.nan, math.inf):
            with pytest.raises(ValueError, match="above"):
                budgets.set_budget(store, "global", "month", limit)
        assert budgets.budget_status(store, datetime.now(UTC)) == []
    finally:
        store.close()


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("global=x", "global takes no value"),
        ("feature", "feature needs a value, e.g. feature=search-answer"),
        ("customer= ", "customer needs a value, e.g. customer=acme"),
        ("region=eu", "unknown scope 'region'"),
    ],
)
def test_a_bad_scope_says_what_is_wrong_with_it(typed: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        budgets.parse_scope(typed)
    assert budgets.parse_scope(" feature = search-answer") == ("feature", "search-answer")
