"""Screens restyled only when the CSS they were styled with has changed: the panes
(`PaneScreen`) and the screens pushed over them (the prompt editor, a grading session, a compare
run, the thread view, the text pages).

Textual restyles every widget of a screen each time it is resumed: the first time, just after
every widget was styled as it mounted (the editor, with its text areas: ~20 ms of each opening),
and on every later visit, where a table's restyle also drops the lines it had drawn, so the
revisit redraws all of them (issue 23). A resume restyles here only when what the styles come
from has changed since the screen was last styled — told by public API alone (`css_stamp`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual.app import App
from textual.events import ScreenResume
from textual.screen import Screen

ResultType = TypeVar("ResultType")

CssStamp = tuple[str, object, object, int]
"""The theme's name, the stylesheet, its sources (by identity) and how many sources it has."""


def css_stamp(app: App[Any]) -> CssStamp:
    """What every widget's styles are computed from, in public terms. A new theme (or ANSI
    palette) re-parses the stylesheet, which replaces its `source` mapping; a reloaded CSS file
    replaces the stylesheet; a widget class mounted for the first time adds its DEFAULT_CSS to
    the sources. The stamp holds the objects themselves, so identity cannot be reused by new
    ones while it is kept."""
    stylesheet = app.stylesheet
    return (app.theme, stylesheet, stylesheet.source, len(stylesheet.source))


def same_stamp(one: CssStamp, other: CssStamp) -> bool:
    return one[0] == other[0] and one[1] is other[1] and one[2] is other[2] and one[3] == other[3]


class RestyledWhenChanged:
    """Keeps the stamp a screen was last styled with; `keep_styles` is called first thing in the
    screen's ScreenResume handler, which runs before Screen's own (Textual dispatches along the
    MRO), the one that restyles when `refresh_styles` is set."""

    _styled_with: CssStamp | None = None

    def keep_styles(self, app: App[Any], event: ScreenResume) -> None:
        stamp = css_stamp(app)
        styled_with = self._styled_with
        if styled_with is None or same_stamp(styled_with, stamp):
            # First resume: styled as its widgets mounted, just now. Later: nothing changed.
            event.refresh_styles = False
        self._styled_with = stamp


class PushedScreen(RestyledWhenChanged, Screen[ResultType]):
    def on_screen_resume(self, event: ScreenResume) -> None:
        self.keep_styles(self.app, event)
