"""A screen pushed over a pane (the prompt editor, a grading session, a compare run, the thread
view, the text pages): styled once, as its widgets mount.

Textual restyles every widget of a screen each time it is resumed, the first time too, just
after it was pushed and every widget was styled as it mounted (the editor, with its text
areas: ~20 ms of each opening, measured under load; issue 23). As the panes do
(`PaneScreen.on_screen_resume`), the first resume skips it; later ones (shown again after a
switch to another pane) restyle as Textual has them do, as the theme may have changed meanwhile.
"""

from __future__ import annotations

from typing import TypeVar

from textual.events import ScreenResume
from textual.screen import Screen

ResultType = TypeVar("ResultType")


class PushedScreen(Screen[ResultType]):
    _resumed_before = False

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Runs before Screen's own handler (Textual dispatches along the MRO), which restyles
        # when `refresh_styles` is set.
        if not self._resumed_before:
            self._resumed_before = True
            event.refresh_styles = False
