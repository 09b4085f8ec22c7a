"""A screen that is one page of text: the header, the text in a scrolling container, the
footer's keys. The call detail, the migration report, the output and version diffs and the
agreement report are such pages; each names the ids its CSS and code use, and its first text."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from llmbench.tui.screens.pushed import PushedScreen
from llmbench.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from textual.visual import VisualType

    from llmbench.tui.app import LLMBenchApp

ResultType = TypeVar("ResultType")


class TextPageScreen(PushedScreen[ResultType]):
    SCROLL_ID: ClassVar[str] = "page-scroll"
    TEXT_ID: ClassVar[str] = "page-text"
    FIRST_TEXT: ClassVar[VisualType] = ""
    """What the page shows until its text is read or worked out."""

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def first_text(self) -> VisualType:
        return self.FIRST_TEXT

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id=self.SCROLL_ID):
            yield Static(self.first_text(), id=self.TEXT_ID)
        yield PaneFooter()
