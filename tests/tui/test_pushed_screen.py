"""A screen pushed over a pane is styled as its widgets mount, not a second time as it is first
shown (Textual restyles every widget on each resume); shown again after a switch to another
pane (mode) it is restyled, as the theme may have changed meanwhile."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from llmbench.tui.screens.pushed import PushedScreen


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


class Panes(App[None]):
    MODES = {"left": Counting, "right": Counting}


async def test_a_pushed_screen_is_restyled_only_when_shown_again() -> None:
    app = Panes()
    async with app.run_test() as pilot:
        await app.switch_mode("left")
        await pilot.pause()
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

        await app.switch_mode("right")
        await pilot.pause()
        await app.switch_mode("left")
        await pilot.pause()
        assert app.screen is page and page.restyled == 1
