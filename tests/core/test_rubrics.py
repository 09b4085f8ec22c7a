"""Rubric definitions: scales, keys, anchors, the TUI's quick form, and what is refused."""

from __future__ import annotations

import pytest

from llmbench.core.grading.rubrics import (
    RubricError,
    dimensions_from_text,
    rubric_from_mapping,
    rubric_from_row,
)


def test_quick_form_round_trips_through_the_stored_json() -> None:
    rubric = rubric_from_mapping(
        {
            "name": "r",
            "dimensions": dimensions_from_text(
                "relevance 1-5; safe pass-fail; tone rude|ok|warm; depth 0-3"
            ),
        }
    )
    stored = rubric_from_row(7, rubric.name, rubric.description, rubric.to_json())
    assert stored.id == 7 and stored.dimensions == rubric.dimensions
    relevance, safe, tone, depth = stored.dimensions
    assert [level.key for level in relevance.levels] == ["1", "2", "3", "4", "5"]
    assert [level.label for level in safe.levels] == ["fail", "pass"] and not safe.ordinal
    assert tone.level_for_key("3").label == "warm" and tone.level_for_score(1).label == "rude"
    assert [level.score for level in depth.levels] == [0, 1, 2, 3]


def test_rows_written_before_scales_existed_still_read() -> None:
    rubric = rubric_from_row(
        1,
        "old",
        "",
        '[{"name": "tone", "levels": ["bad", "ok", "good"], "examples": {"3": "Hi!"}}]',
    )
    [tone] = rubric.dimensions
    assert [(lv.score, lv.key) for lv in tone.levels] == [(1, "1"), (2, "2"), (3, "3")]
    assert tone.levels[2].example == "Hi!"


@pytest.mark.parametrize(
    ("dimensions", "problem"),
    [
        ([{"name": "a", "scale": "1-12"}], "unknown scale"),
        ([{"name": "a", "levels": [str(n) for n in range(10)]}], "at most nine"),
        ([{"name": "a", "levels": [{"label": "x", "key": "1"}, {"label": "y", "key": "1"}]}],
         "share a key"),
        ([{"name": "a"}, {"name": "a"}], "repeat"),
        ([{"name": "a", "scale": "1-3", "levels": ["x"]}], "1 levels for scale"),
        ([{"description": "no name"}], "needs a name"),
    ],
)  # fmt: skip
def test_unusable_rubrics_are_refused_with_a_reason(dimensions: list, problem: str) -> None:
    with pytest.raises(RubricError, match=problem):
        rubric_from_mapping({"name": "r", "dimensions": dimensions})
    with pytest.raises(RubricError, match="at least one dimension"):
        dimensions_from_text(" ; ")
