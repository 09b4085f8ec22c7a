"""The pane footer (one widget drawing every key hint) on F6, and how soon a pane switch shows:
the keys follow the focus, a click on a hint runs its key, hover highlights it, and frames
held after a switch are released once the pane is ready rather than after a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.style import Style
from textual.pilot import Pilot

from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.columns import ColumnsDialog
from llmbench.tui.widgets.call_log import CallLog
from llmbench.tui.widgets.pane_footer import PaneFooter
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle


@pytest.fixture
def store(pristine_copy: Path) -> Iterator[Store]:
    opened = open_db(pristine_copy, create=False)
    yield opened
    opened.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _footer(app: LLMBenchApp) -> PaneFooter:
    return app.screen.query_one(PaneFooter)


def _line(app: LLMBenchApp) -> str:
    return _footer(app).render_line(0).text


def _style_at(app: LLMBenchApp, x: int) -> Style:
    at = 0
    for segment in _footer(app).render_line(0):
        if at <= x < at + len(segment.text):
            assert segment.style is not None
            return segment.style
        at += len(segment.text)
    raise AssertionError(f"nothing drawn at {x}")


async def test_the_footer_shows_the_keys_of_the_focused_widget(store: Store) -> None:
    async with _app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_pane(pilot, "f6")
        line = _line(app)
        assert len(line) == SIZE[0]
        # The log's keys first (it has the focus), then the pane's, then the app's.
        for hint in (
            " g Newest ",
            " ⏎ Open ",
            " / Filter ",
            " c Columns ",
            " ^q Quit ",
            " f1 Help ",
        ):
            assert hint in line
        assert line.index("Newest") < line.index("Filter") < line.index("Quit")
        assert line.endswith("▏^p Palette ")

        await pilot.press("slash")  # the query bar takes the focus and the letters it types
        await pilot.pause()
        assert "Newest" not in _line(app)
        assert "Columns" not in _line(app)
        assert " / Filter " in _line(app)
        await pilot.press("escape")
        await pilot.pause()
        assert " g Newest " in _line(app)

        await open_pane(pilot, "f2")  # each pane's footer shows that pane's keys
        assert "Columns" not in _line(app)
        assert " r Refresh " in _line(app)


async def test_a_click_on_a_hint_runs_its_key_and_hover_lights_it(store: Store) -> None:
    async with _app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_pane(pilot, "f6")
        x = _line(app).index(" c Columns ") + 2
        plain = _style_at(app, x)
        await pilot.hover(PaneFooter, offset=(x, 0))
        await pilot.pause()
        lit = _style_at(app, x)
        assert lit.bgcolor != plain.bgcolor
        assert _style_at(app, 0).bgcolor == plain.bgcolor  # only the hint under the pointer

        await pilot.click(PaneFooter, offset=(x, 0))
        for _ in range(100):
            if isinstance(app.screen, ColumnsDialog):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, ColumnsDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ColumnsDialog)

        palette_x = SIZE[0] - len("^p Palette ")
        await pilot.click(PaneFooter, offset=(palette_x, 0))
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "CommandPalette"


async def _shown_within(pilot: Pilot[None], seconds: float) -> float:
    """Seconds until the frames held after a switch are released."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while pilot.app._batch_count:
        assert loop.time() - started < seconds, "the switch was held for its whole limit"
        await asyncio.sleep(0.002)
    return loop.time() - started


async def test_a_switch_is_shown_once_the_pane_is_ready(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hold of 10 s instead of Textual's 50 ms: only the pane being ready can end it in time.
    hold = LLMBenchApp.delay_update
    monkeypatch.setattr(LLMBenchApp, "delay_update", lambda app, delay=0.05: hold(app, 10.0))
    async with _app(store).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        app.action_show_pane("audit")  # first visit: built, resumed, first page read
        await _shown_within(pilot, 5)
        log = app.screen.query_one(CallLog)
        assert log.loaded and log.rows
        await settle(pilot)

        app.action_show_pane("prompts")  # a later visit: ready as soon as it is in front
        await _shown_within(pilot, 5)
        assert getattr(app.screen, "loaded", False)
        app.action_show_pane("audit")
        await _shown_within(pilot, 5)
        assert app.screen.query_one(CallLog).rows
