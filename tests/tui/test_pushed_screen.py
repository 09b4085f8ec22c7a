"""A pane, or a screen pushed over one, is styled as its widgets mount, not a second time as it
is first shown (Textual restyles every widget on each resume); shown again after a switch to
another pane (mode), it is restyled only when the CSS changed meanwhile (a new theme), which
public API alone tells (`css_stamp`): a failure here means Textual changed what that relies on.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static

from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.pushed import PushedScreen, css_stamp, same_stamp


class Counting(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.restyled = 0

    def compose(self) -> ComposeResult:
        yield Static("a page")

    def update_node_styles(self, animate: bool = True) -> None:
        self.restyled += 1
        super().update_node_styles(animate)


class Page(PushedScreen[None], Counting):
    pass


class Rows(PaneScreen[list[int]]):
    """A pane with a table, counting its restyles."""

    restyled = 0

    def compose_body(self) -> ComposeResult:
        yield DataTable()

    def fetch(self) -> list[int]:
        return list(range(30))

    def show(self, data: list[int]) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("n")
        for n in data:
            table.add_row(str(n))

    def update_node_styles(self, animate: bool = True) -> None:
        self.restyled += 1
        super().update_node_styles(animate)


class Panes(App[None]):
    MODES = {"left": Counting, "right": Counting, "rows": Rows}

    def import_panes(self) -> None:
        """What LLMBenchApp does once a pane first shows its data: nothing to import here."""


async def _switch(app: App[Any], pilot: Any, mode: str) -> None:
    await app.switch_mode(mode)
    await pilot.pause()


async def _round_trip(app: App[Any], pilot: Any, there: str, back: str) -> None:
    """Textual re-parses the whole stylesheet the first time it shows again a screen that was
    new when last shown (its "styled with" count is set only once it is mounted; LLMBenchApp's
    panes are made so that it does not: pane_loading.screen_factory); so it does here, once
    for each plain screen, before what is tested."""
    await _switch(app, pilot, there)
    await _switch(app, pilot, back)


async def test_a_pushed_screen_is_restyled_only_when_the_css_changed() -> None:
    app = Panes()
    async with app.run_test() as pilot:
        await _round_trip(app, pilot, "right", "left")
        await _round_trip(app, pilot, "right", "left")
        plain = Counting()
        await app.push_screen(plain)
        await pilot.pause()
        assert plain.restyled == 1  # Textual's own: styled as it mounted, then again
        app.pop_screen()
        await pilot.pause()

        page = Page()
        await app.push_screen(page)
        await pilot.pause()
        assert app.screen is page and page.restyled == 0
        assert str(page.query_one(Static).styles.height) == "auto"  # styled as it mounted
        await _round_trip(app, pilot, "right", "left")  # Textual's re-parse (see _round_trip)
        page.restyled = 0

        await _switch(app, pilot, "right")
        await _switch(app, pilot, "left")
        assert app.screen is page and page.restyled == 0  # nothing changed: nothing to redo

        await _switch(app, pilot, "right")
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        await _switch(app, pilot, "left")
        assert app.screen is page and page.restyled == 1  # a new theme: styled again
        background = page.query_one(Static).styles.background
        assert background == app.screen.query_one(Static).styles.background


async def test_a_pane_shown_again_keeps_its_styles_unless_the_theme_changed() -> None:
    app = Panes()
    async with app.run_test() as pilot:
        await _round_trip(app, pilot, "right", "left")
        await _switch(app, pilot, "rows")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        pane = app.screen
        assert isinstance(pane, Rows) and pane.loaded and pane.restyled == 0
        await _round_trip(app, pilot, "left", "rows")  # Textual's re-parse (see _round_trip)
        pane.restyled = 0

        await _switch(app, pilot, "left")
        await _switch(app, pilot, "rows")
        assert pane.restyled == 0

        await _switch(app, pilot, "left")
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        await _switch(app, pilot, "rows")
        assert pane.restyled == 1


async def test_the_stamp_follows_the_theme_and_new_css() -> None:
    app = Panes()
    async with app.run_test() as pilot:
        before = css_stamp(app)
        assert same_stamp(before, css_stamp(app))
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        after_theme = css_stamp(app)
        assert not same_stamp(before, after_theme)  # the theme, and a re-parsed stylesheet
        assert after_theme[2] is not before[2]  # Textual replaces the sources as it re-parses

        class Fresh(Static):
            DEFAULT_CSS = "Fresh { color: red; }"

        await app.screen.mount(Fresh("new"))
        await pilot.pause()
        assert not same_stamp(after_theme, css_stamp(app))  # a new widget class's CSS
