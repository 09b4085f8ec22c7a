"""The banner across the top of the screen while the database refuses writes.

A toast goes away by itself while the problem stays (and a pane's own counter may then say
otherwise); this line stays on every screen until a write lands again. The app mounts it into
whichever screen is current (`show_on`), since Textual has no widget that outlives screens.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Static

TITLE = "Changes are not being saved"


class WriteBanner(Static):
    DEFAULT_CSS = """
    WriteBanner {
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, problem: str) -> None:
        super().__init__(self.text_for(problem), markup=False, id="write-banner")
        self.problem = problem

    @staticmethod
    def text_for(problem: str) -> str:
        return f"⚠ {TITLE}: {problem}"

    def show(self, problem: str) -> None:
        if problem != self.problem:
            self.problem = problem
            self.update(self.text_for(problem))


def show_on(screen: Screen[Any], problem: str | None) -> None:
    """Make `screen` carry the banner for `problem`, or none when there is no problem."""
    banners = list(screen.query(WriteBanner))
    if problem is None:
        for banner in banners:
            banner.remove()
    elif banners:
        banners[0].show(problem)
    else:
        # In the flow, first: below the docked header, above whatever the screen shows.
        screen.mount(WriteBanner(problem), before=0)
