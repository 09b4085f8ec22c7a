"""The key hints under every pane, drawn as one line by one widget.

Textual's Footer mounts a FooterKey widget per key and mounts them all again whenever the
focused widget's bindings change: every pane switch restyled, laid out and drew some twenty
widgets, most of a pane switch's time (F6: ~70 of ~95 ms). This footer keeps the keys as plain
data and draws them with the Line API: a switch only recomputes a list and redraws one line.
It looks and behaves as Textual's (non-compact) Footer: the same colours, the command palette
key on the right, hover highlight, a click runs the key, the wheel scrolls keys that overflow.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

PALETTE_RULE = "▏"  # Footer's `border-left: vkey` before the palette key


@dataclass(frozen=True)
class FooterItem:
    """One key hint as drawn: `pieces` are (text, component class) runs."""

    key: str | None
    """The key a click presses; None for a group's label."""
    pieces: tuple[tuple[str, str], ...]
    enabled: bool = True
    tooltip: str = ""

    @property
    def width(self) -> int:
        return sum(cell_len(text) for text, _ in self.pieces)


def _key_item(binding: Binding, display: str, enabled: bool, tooltip: str) -> FooterItem:
    pieces = [(f" {display} ", "key")]
    if binding.description:
        pieces.append((f"{binding.description} ", "description"))
    return FooterItem(binding.key, tuple(pieces), enabled, tooltip)


class PaneFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "pane-footer--item",
        "pane-footer--key",
        "pane-footer--description",
        "pane-footer--hover",
        "pane-footer--rule",
    }
    DEFAULT_CSS = """
    PaneFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .pane-footer--item { background: $footer-item-background; }
        & > .pane-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .pane-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .pane-footer--hover { background: $block-hover-background; }
        & > .pane-footer--rule { color: $foreground 20%; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._items: list[FooterItem] | None = None
        self._palette: FooterItem | None = None
        self._ready = False
        self._hover: FooterItem | None = None
        self._scroll_x = 0

    # -- the keys ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # As Footer: nothing shows before the screen first says its keys are settled, and keys
        # stay as they were while the app has lost focus.
        self._ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            collected = self._collect()
            if collected != (self._items, self._palette):  # focus moves often, keys less so
                self._items, self._palette = collected
                self.refresh()

    @property
    def items(self) -> list[FooterItem]:
        """The key hints left to right (without the palette key), as Footer would show them."""
        if self._items is None:
            self._items, self._palette = self._collect() if self._ready else ([], None)
        return self._items

    @property
    def palette(self) -> FooterItem | None:
        _ = self.items
        return self._palette

    def _collect(self) -> tuple[list[FooterItem], FooterItem | None]:
        app = self.app
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        items: list[FooterItem] = []
        for group, same_group in groupby(by_action.values(), lambda found: found[0][0].group):
            actions = list(same_group)
            if group is not None and len(actions) > 1:
                # A group: its keys side by side, then what they do together.
                for binding, enabled, tooltip in (found[0] for found in actions):
                    display = app.get_key_display(binding)
                    pieces = (
                        ((f" {display} ", "key"),) if not group.compact else ((display, "key"),)
                    )
                    items.append(
                        FooterItem(binding.key, pieces, enabled, tooltip or binding.description)
                    )
                items.append(FooterItem(None, ((f" {group.description} ", "description"),)))
                continue
            for binding, enabled, tooltip in (found[0] for found in actions):
                items.append(_key_item(binding, app.get_key_display(binding), enabled, tooltip))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, _ = active[app.COMMAND_PALETTE_BINDING]
            # Footer draws this key compact: no padding around the key, one space before the
            # description, and one cell of padding after it.
            palette = FooterItem(
                binding.key,
                ((app.get_key_display(binding), "key"), (f" {binding.description}", "description"),
                 (" ", "item")),
                enabled,
                binding.tooltip or binding.description,
            )  # fmt: skip
        return items, palette

    # -- the mouse ---------------------------------------------------------------------------

    def _item_at(self, x: int) -> FooterItem | None:
        palette = self.palette
        if palette is not None:
            rule_x = self.size.width - palette.width - 1
            if x >= rule_x:
                return palette if x > rule_x else None  # the rule before it is no key
        at = -self._scroll_x
        for item in self.items:
            if at <= x < at + item.width:
                return item if item.key is not None else None
            at += item.width
        return None

    def _set_hover(self, item: FooterItem | None) -> None:
        if item is not self._hover:
            self._hover = item
            self.tooltip = item.tooltip if item is not None and item.tooltip else None
            self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._item_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._item_at(event.x)
        if item is None or item.key is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()

    def _overflow(self) -> int:
        palette = self.palette
        room = self.size.width - (palette.width + 1 if palette is not None else 0)
        return max(sum(item.width for item in self.items) - room, 0)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(2, event)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-2, event)

    def _scroll_by(self, step: int, event: events.MouseEvent) -> None:
        scrolled = max(0, min(self._scroll_x + step, self._overflow()))
        if scrolled != self._scroll_x:
            self._scroll_x = scrolled
            event.stop()
            self.refresh()

    # -- drawing -----------------------------------------------------------------------------

    def _styles(self) -> dict[str, Style]:
        """The style of each kind of piece, from the footer's CSS (read once a frame)."""
        base = self.rich_style
        item_background = self.get_component_styles("pane-footer--item").background.a > 0
        item = (
            base + self.get_component_rich_style("pane-footer--item") if item_background else base
        )
        styles = {"item": item}
        for part in ("key", "description"):
            style = item + self.get_component_rich_style(f"pane-footer--{part}")
            if (
                item_background
                and self.get_component_styles(f"pane-footer--{part}").background.a == 0
            ):
                style += Style(bgcolor=item.bgcolor)  # no background of its own: the item's shows
            styles[part] = style
        styles["hover"] = Style(bgcolor=self.get_component_rich_style("pane-footer--hover").bgcolor)
        styles["rule"] = base + self.get_component_rich_style("pane-footer--rule")
        return styles

    def _segments(self, item: FooterItem, styles: dict[str, Style]) -> list[Segment]:
        extra = Style()
        if item is self._hover:
            extra += styles["hover"]
        if not item.enabled:
            extra += Style(dim=True)
        return [Segment(text, styles[part] + extra) for text, part in item.pieces]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y != 0 or width <= 0:
            return Strip.blank(width, base)
        styles = self._styles()
        palette = self.palette
        room = max(width - (palette.width + 1 if palette is not None else 0), 0)
        keys: list[Segment] = []
        for item in self.items:
            keys.extend(self._segments(item, styles))
        left = Strip(keys).crop(self._scroll_x, self._scroll_x + room)
        left = left.extend_cell_length(room, base)
        if palette is None:
            return left.adjust_cell_length(width, base)
        rule = Segment(PALETTE_RULE, styles["rule"])
        return Strip.join([left, Strip([rule, *self._segments(palette, styles)])]).crop(0, width)
