"""Widgets sized by the layout alone: a new text changes their size in one layout, not two.

When a layout gives a widget a new size, Textual 8 sets the widget's `virtual_size` reactive,
which asks for another layout of the whole screen: every text whose height changes costs two
layouts and two frames, the second identical to the first. A grading session changes the
height of its item, rubric and replies on every key, so each item was laid out twice (issue 23:
a third of a grading key's time). These widgets take their size as Textual does when it
lays out only what scrolled into view (`_size_updated(..., layout=False)`): the new virtual
size is kept, the scrollbars follow it (showing or hiding one still lays the screen out again,
as its room changes), and nothing else is asked for. tests/tui/test_grade_one_layout.py pins
the method's signature and counts the layouts of a grading key.

Each keeps the name of the Textual widget it extends (use them as `laid_out.VerticalScroll`):
F1 names the widget whose keys it lists by its class, and CSS matches either way.
"""

from __future__ import annotations

from textual import containers, widgets
from textual.geometry import Size


class Static(widgets.Static):
    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class VerticalScroll(containers.VerticalScroll):
    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class Horizontal(containers.Horizontal):
    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)


class Vertical(containers.Vertical):
    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
