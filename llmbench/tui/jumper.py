"""Jump mode's targets: every focusable widget a screen shows, and every tab of its tab bars,
each with a one-key label, and what pressing that label does.

Labels follow the screen's reading order (top to bottom, then left to right), so a layout gets
the same labels every time it is shown: `a` is always the first thing on the screen. Nothing
has to register: a widget Textual can focus, or a tab, is a target as soon as it can be seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.errors import NoWidget
from textual.geometry import Offset
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tab, TabbedContent, Tabs

# Home row first: the first targets, the ones most used, are under the fingers. Digits last.
LABEL_KEYS = "asdfghjklqwertyuiopzxcvbnm1234567890"
LABEL_WIDTH = 3
"""Cells a label takes on screen: the key with a space either side."""


@dataclass(frozen=True)
class JumpTarget:
    key: str
    """The key that jumps here, shown as the label."""
    widget: Widget
    """A focusable widget, or a Tab of a tab bar (pressing it shows that tab)."""
    offset: Offset
    """Where the label is drawn, in screen cells."""

    @property
    def is_tab(self) -> bool:
        return isinstance(self.widget, Tab)


def _shown(screen: Screen[Any], widget: Widget) -> bool:
    """Whether `widget` can be seen: laid out with some size, and what is drawn at its top-left
    cell is it (or a part of it), not something scrolled over or covering it."""
    region = widget.region
    if not widget.display or not widget.visible or region.area == 0:
        return False
    if not screen.region.contains(region.x, region.y):
        return False
    try:
        drawn, _ = screen.get_widget_at(region.x, region.y)
    except NoWidget:
        return False
    return drawn is widget or widget in drawn.ancestors


def _candidates(screen: Screen[Any]) -> list[Widget]:
    """Focusable widgets and tabs, in no particular order. A tab bar is reached through its
    tabs (each labelled), not as one more target."""
    found: list[Widget] = []
    for widget in screen.walk_children(Widget):
        if isinstance(widget, Tab):
            if not widget.disabled:
                found.append(widget)
        elif isinstance(widget, Tabs):
            continue
        elif widget.focusable:
            found.append(widget)
    return found


def jump_targets(screen: Screen[Any]) -> list[JumpTarget]:
    """Every target `screen` shows, labelled in reading order; at most one per label key."""
    shown = [widget for widget in _candidates(screen) if _shown(screen, widget)]
    shown.sort(key=lambda widget: (widget.region.y, widget.region.x))
    width = screen.region.width
    taken: set[Offset] = set()
    targets: list[JumpTarget] = []
    for key, widget in zip(LABEL_KEYS, shown, strict=False):
        x = min(widget.region.x, max(0, width - LABEL_WIDTH))
        offset = Offset(x, widget.region.y)
        while offset in taken and offset.x + LABEL_WIDTH < width:
            # Two targets starting on one cell (a list inside a bordered box): side by side.
            offset = Offset(offset.x + LABEL_WIDTH, offset.y)
        taken.add(offset)
        targets.append(JumpTarget(key, widget, offset))
    return targets


def jump_to(target: JumpTarget) -> None:
    """Focus the target; for a tab, show its tab first and focus what the tab holds."""
    widget = target.widget
    if not isinstance(widget, Tab):
        widget.focus()
        return
    tabs = next((node for node in widget.ancestors if isinstance(node, Tabs)), None)
    if tabs is None or widget.id is None:
        return
    tabs.active = widget.id  # a TabbedContent above the bar shows the tab's pane for it
    tabbed = next((node for node in tabs.ancestors if isinstance(node, TabbedContent)), None)
    if tabbed is None:
        tabs.focus()
        return

    def focus_inside() -> None:
        pane = tabbed.active_pane
        inside = [node for node in pane.walk_children(Widget) if node.focusable] if pane else []
        (inside[0] if inside else tabs).focus()

    # The pane is shown once the tab's message reaches the TabbedContent and the screen
    # refreshes; only then can its widgets take focus.
    tabbed.call_after_refresh(focus_inside)
