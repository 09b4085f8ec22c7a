"""The private names of Textual llmbench still uses, pinned (issue 23): `_css_update_count`,
the count of stylesheet changes a screen was last styled at.

Textual starts a mode by comparing a new screen's count (-1, "never styled") with the app's and,
as they differ, re-parses every stylesheet, twice (~20 ms of a pane's first visit). A new screen
is styled from the current stylesheet as it mounts, so `pane_loading.screen_factory` (and
`LLMBenchApp.get_default_screen`) give it the app's count. Textual has no public way to say so.
If Textual renames the attribute or stops comparing it, these tests fail: drop the workaround
then, or follow the new name. (`App._display`, which the keys benchmark's frame clock wraps, is
pinned in test_bench_keys_coverage.py.)
"""

from __future__ import annotations

import asyncio
import inspect

from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen
from textual.widgets import Static

from llmbench.tui import pane_loading


class Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("plain")


class Marked(Plain):
    def __init__(self) -> None:
        super().__init__()
        self._css_update_count = self.app._css_update_count  # as screen_factory does


class Modes(App[None]):
    MODES = {"plain": Plain, "marked": Marked}


def _counting_reparses(app: App[None]) -> list[int]:
    seen: list[int] = []
    original = Stylesheet.reparse

    def reparse(stylesheet: Stylesheet) -> None:
        seen.append(1)
        original(stylesheet)

    app.stylesheet.reparse = reparse.__get__(app.stylesheet)  # type: ignore[method-assign]
    return seen


async def test_textual_reparses_for_a_new_screen_unless_given_the_apps_count() -> None:
    app = Modes()
    async with app.run_test() as pilot:
        assert isinstance(app._css_update_count, int)
        assert Screen()._css_update_count == -1  # "never styled": what Textual compares
        seen = _counting_reparses(app)
        await app.switch_mode("plain")
        await pilot.pause()
        assert seen, "Textual no longer re-parses for a new mode: drop the workaround"
        seen.clear()
        await app.switch_mode("marked")
        await pilot.pause()
        assert not seen, "the app's count no longer spares the re-parse: follow Textual's change"


def test_the_workaround_still_names_the_attribute_textual_compares() -> None:
    # Both sides of the comparison the workaround relies on (App._init_mode, App.switch_mode).
    assert "screen._css_update_count != self._css_update_count" in inspect.getsource(App._init_mode)
    assert "_css_update_count" in inspect.getsource(pane_loading.screen_factory)


async def test_a_screens_timer_update_paints_what_changed_at_once() -> None:
    """`Screen._on_timer_update`, what the screen's update timer calls: `LLMBenchApp.pane_ready`
    calls it so a pane opened from a key is painted as soon as its data is on it, not a timer
    period later. If Textual renames it or it stops painting, this fails: follow the new name or
    drop the call (the frame then comes at the timer's next tick)."""
    app = Modes()
    async with app.run_test() as pilot:
        await app.switch_mode("plain")
        await pilot.pause()
        frames: list[object] = []
        original = app._display

        def display(screen: Screen[None], renderable: object) -> None:
            frames.append(renderable)
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        try:
            assert inspect.signature(app.screen._on_timer_update).parameters == {}
            while app._batch_count:  # the mode switch holds its frames for a moment
                await asyncio.sleep(0.01)
            app.screen._update_timer.pause()
            frames.clear()
            app.screen.query_one(Static).update("changed")  # marks it dirty, paints nothing
            assert not frames
            app.screen._on_timer_update()
            assert frames, "Screen._on_timer_update no longer paints: drop pane_ready's call"
        finally:
            app._display = original  # type: ignore[method-assign]
