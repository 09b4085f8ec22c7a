"""Two outputs of the same case, word by word: what one prompt version or model says that the
other does not. Tab moves the right-hand side through the other columns."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.widgets import Static

from llmbench.core.prompts.diff import diff_section
from llmbench.tui.screens.text_page import TextPageScreen
from llmbench.tui.widgets.diff_view import render_text_diff

Output = tuple[str, str]  # the column's title, its text


class OutputDiffScreen(TextPageScreen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="output_diff_close"),
        Binding("tab", "next_side", "Next column", id="output_diff_next"),
        Binding("s", "swap", "Swap sides", id="output_diff_swap"),
    ]
    DEFAULT_CSS = """
    OutputDiffScreen {
        #output-diff-scroll { height: 1fr; padding: 0 1; }
    }
    """
    SCROLL_ID = "output-diff-scroll"
    TEXT_ID = "output-diff-text"

    def __init__(self, case_title: str, outputs: Sequence[Output]) -> None:
        super().__init__()
        if len(outputs) < 2:
            raise ValueError("a diff needs two outputs")
        self.case_title = case_title
        self.outputs = list(outputs)
        self.left, self.right = 0, 1
        self.title = "Output diff"

    def on_mount(self) -> None:
        self._show()
        self.query_one("#output-diff-scroll").focus()

    def _show(self) -> None:
        (old_title, old), (new_title, new) = self.outputs[self.left], self.outputs[self.right]
        self.sub_title = self.case_title
        diff = diff_section("output", old, new)
        self.query_one("#output-diff-text", Static).update(
            render_text_diff(old_title, new_title, diff)
        )

    def action_next_side(self) -> None:
        others = [index for index in range(len(self.outputs)) if index != self.left]
        self.right = others[(others.index(self.right) + 1) % len(others)]
        self._show()

    def action_swap(self) -> None:
        self.left, self.right = self.right, self.left
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)
