"""How a pane's code is loaded: its screen built on its first visit, and every pane's modules
imported in a thread once the first pane's data is on screen."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from llmbench.tui.app import Pane

# What the panes' first reads import in their workers, beside the screens themselves.
PANE_SERVICES = (
    "llmbench.services.audit.browser",
    "llmbench.services.costs.pane",
    "llmbench.services.models.catalog",
    "llmbench.services.monitoring.health",
    "llmbench.services.panes",
)


def import_panes(panes: Iterable[Pane], pause: Callable[[], None] = lambda: None) -> None:
    """Import every pane's modules; before each, `pause` waits while a pane is being opened
    (an import holds the interpreter, and the module lock the opening pane may need)."""
    for name in (*(f"llmbench.tui.screens.{pane.module}" for pane in panes), *PANE_SERVICES):
        pause()
        importlib.import_module(name)


def screen_factory(pane: Pane) -> Callable[[], Screen]:
    def make() -> Screen:
        screen: Screen = screen_class_of(pane)()
        # A new screen is styled from the current stylesheet as it mounts, yet Textual takes its
        # "never styled" count (-1) for stale CSS and re-parses every stylesheet, twice, when it
        # starts a mode (~20 ms). Nothing can be stale in a screen that does not exist yet.
        screen._css_update_count = screen.app._css_update_count
        return screen

    return make


def screen_class_of(pane: Pane) -> type[Screen]:
    module = importlib.import_module(f"llmbench.tui.screens.{pane.module}")
    screen_class: type[Screen] = getattr(module, pane.screen_class)
    return screen_class
