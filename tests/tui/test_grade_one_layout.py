"""A grading key lays the screen out once (issue 23): the item, rubric and replies take the size
the layout gives them without asking for a second layout (tui/widgets/laid_out.py), the texts a
key did not change are not set again, and a long item still scrolls."""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from llmbench.services.grading.queues import Pair
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from tests.support import key_timing
from tests.tui.conftest import DEMO_NOW, demo_settings
from tests.tui.test_grade_pane import _open_queue

SMALL = (80, 24)  # long items overflow their panel


@pytest.fixture
def own_store(demo_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_db, path)
    store = open_db(path, create=False)
    yield store
    store.close()


def test_textual_still_sizes_widgets_through_size_updated() -> None:
    """laid_out.py overrides the private `Widget._size_updated`: a Textual that renames it or
    changes its arguments must fail here rather than lay grading out twice again."""
    assert list(inspect.signature(Widget._size_updated).parameters) == [
        "self", "size", "virtual_size", "container_size", "layout",
    ]  # fmt: skip


async def test_each_item_is_one_layout_and_long_ones_scroll(own_store: Store) -> None:
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _open_queue(pilot, "g")
        counted = key_timing.count_layouts(screen)
        text = screen.query_one("#grade-item-text", Static)
        scroll = screen.query_one("#grade-item", VerticalScroll)
        heights: set[int] = set()
        overflowed = False
        for _ in range(12):
            before = screen.session.current
            assert await key_timing.layouts_of(pilot, counted, "j") == 1
            assert screen.session.current is not before
            assert screen.session.current is not None
            assert screen.session.current.key in screen.bodies  # read ahead: shown at once
            heights.add(text.outer_size.height)
            # The scroll follows the new text's height: all of a long item can be reached.
            room = scroll.scrollable_content_region.height
            assert scroll.virtual_size.height == max(text.outer_size.height, room)
            assert scroll.max_scroll_y == max(text.outer_size.height - room, 0)
            assert scroll.show_vertical_scrollbar  # always: its coming would be a layout
            assert scroll.scroll_y == 0  # a new item starts at its top
            overflowed |= scroll.max_scroll_y > 0
        assert len(heights) > 1, "the items shown were all of one height: nothing was tested"
        assert overflowed

        # A level: the rubric changes, one layout; a digit that is no level changes nothing.
        assert await key_timing.layouts_of(pilot, counted, "3") == 1
        dimension = screen.session.active_dimension
        assert dimension is not None and dimension.level_for_key("0") is None
        assert await key_timing.layouts_of(pilot, counted, "0") == 0


async def test_each_pair_is_one_layout(own_store: Store) -> None:
    app = LLMBenchApp(own_store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SMALL) as pilot:
        screen = await _open_queue(pilot, "p")
        counted = key_timing.count_layouts(screen)
        left = screen.query_one("#pair-left", Static)
        for key in ("a", "b", "equals_sign", "j"):
            pair = screen.session.current
            assert isinstance(pair, Pair)
            # The key and the grade landing (the progress line counts it): one layout in all.
            assert await key_timing.layouts_of(pilot, counted, key) == 1
            assert screen.session.current is not pair
            shown = screen.session.current
            assert isinstance(shown, Pair)
            assert screen.bodies[shown.left.key].output[:20] in str(left.render())
