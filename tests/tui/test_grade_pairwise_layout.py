"""Pairwise grading shows the two replies side by side, A on the left and B on the right, at
80×24 too (each gets at least 36 columns); narrower, they are stacked. The keys stay a, b, =."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from llmbench.services.grading.queues import Pair
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.grade.pair_view import MIN_SIDE, PairView
from tests.tui.conftest import DEMO_NOW, demo_settings
from tests.tui.test_grade_pane import _flush, _my_grades, _open_queue


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


@pytest.mark.parametrize(("size", "side_by_side"), [((80, 24), True), ((200, 60), True),
                                                     ((64, 24), False)])  # fmt: skip
async def test_the_two_replies_sit_side_by_side_when_there_is_room(
    own_store: Store, size: tuple[int, int], side_by_side: bool
) -> None:
    app = _app(own_store)
    async with app.run_test(size=size) as pilot:
        screen = await _open_queue(pilot, "p")
        await pilot.pause()
        pair = screen.session.current
        assert isinstance(pair, Pair)
        view = screen.query_one("#grade-pair", PairView)
        left = screen.query_one("#pair-left", Static)
        right = screen.query_one("#pair-right", Static)
        assert view.display and left.region.width and right.region.width
        assert str(left.render()).startswith("A  (left)")
        assert str(right.render()).startswith("B  (right)")
        assert screen.bodies[pair.left.key].output[:20] in str(left.render())
        assert screen.bodies[pair.right.key].output[:20] in str(right.render())
        if side_by_side:
            assert not view.stacked
            assert left.region.y == right.region.y and left.region.right <= right.region.x
            assert left.region.width >= MIN_SIDE and right.region.width >= MIN_SIDE
            assert right.region.right <= size[0]
        else:
            assert view.stacked
            assert left.region.x == right.region.x and left.region.bottom <= right.region.y
        # The keys are unchanged: b prefers the right reply and moves to the next pair.
        await pilot.press("b")
        await _flush(pilot, own_store)
        assert screen.session.current is not pair
    (grade,) = _my_grades(own_store, "pairwise")
    assert grade[3] == ("a" if pair.right is pair.a else "b")
