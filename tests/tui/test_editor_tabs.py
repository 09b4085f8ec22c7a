"""The prompt editor opens with only its first tab's text highlighted; each other tab's text is
highlighted as the tab is first shown (by key or by its tab), its text and cursor unchanged,
and what is typed there goes into it (issue 23: parsing every hidden tab was most of the
editor's opening)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import TabbedContent, TextArea

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.editor import FIRST_TAB, LANGUAGES, TABS, EditorScreen
from tests.tui.conftest import settle


def _area(editor: EditorScreen, name: str) -> TextArea:
    return editor.query_one(f"#text-{name}", TextArea)


async def test_hidden_tabs_are_highlighted_as_they_are_first_shown(
    make_app: Callable[..., LLMBenchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert _area(editor, FIRST_TAB).language == LANGUAGES[FIRST_TAB]
        assert all(_area(editor, name).language is None for name in TABS if name != FIRST_TAB)

        settings = _area(editor, "settings")
        text = settings.text
        assert text  # the version's model and parameters
        await pilot.press(f"alt+{TABS.index('settings') + 1}")
        await settle(pilot)
        assert settings.language == "yaml" and settings.text == text
        assert settings.has_focus and settings.cursor_location == (0, 0)
        await pilot.press("#")
        assert settings.text == "#" + text

        # Shown by its tab (a click), not by a key: highlighted too.
        editor.query_one("#editor-tabs", TabbedContent).active = "tab-role"
        await settle(pilot)
        assert _area(editor, "role").language == "markdown"
        assert _area(editor, "examples").language is None  # never shown: never parsed
