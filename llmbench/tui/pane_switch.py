"""Switching panes without waiting out Textual's fixed hold when the new pane is ready sooner."""

from __future__ import annotations

from textual.app import App
from textual.widget import AwaitMount

READY_POLL_S = 0.004
"""How often a pane switch checks whether the new pane is ready to be shown."""


class SwitchesWhenReady(App[None]):
    """An app whose mode switches end their hold of the frames once the new screen says it is
    `ready_to_show` (a pane built, resumed and showing its data)."""

    _switching = False

    def switch_mode(self, mode: str) -> AwaitMount:
        self._switching = True
        try:
            return super().switch_mode(mode)
        finally:
            self._switching = False

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds every frame for `delay` after a mode switch, so the new screen is not
        seen building itself. A pane ready sooner (built, resumed, its data on it: a later visit
        at once) is shown sooner; other screens, and other holds, keep Textual's."""
        if not self._switching:
            super().delay_update(delay)
            return
        self._begin_batch()  # the hold Textual's delay_update begins; released once below
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            poll.stop()
            limit.stop()
            self._end_batch()
            if not self._batch_count:
                self.screen.refresh()

        def check() -> None:
            stack = self.screen_stack
            if stack and getattr(stack[-1], "ready_to_show", False):
                release()

        poll = self.set_interval(READY_POLL_S, check, name="pane-ready")
        limit = self.set_timer(delay, release, name="delay_update")
