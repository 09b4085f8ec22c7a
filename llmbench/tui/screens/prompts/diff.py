"""Two versions of a prompt side by side in time: what changed, section by section, word by word."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import Static

from llmbench.core.prompts.diff import diff_versions
from llmbench.tui.screens.text_page import TextPageScreen
from llmbench.tui.widgets.diff_view import render_diff

if TYPE_CHECKING:
    from textual.content import Content

    from llmbench.core.models import PromptVersion


class DiffScreen(TextPageScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back", id="diff_close"),
        Binding("c", "toggle_context", "All lines", id="diff_context"),
    ]
    DEFAULT_CSS = """
    DiffScreen {
        #diff-body { padding: 0 1; }
    }
    """
    SCROLL_ID = "diff-body"
    TEXT_ID = "diff-text"

    def __init__(self, prompt_name: str, old: PromptVersion, new: PromptVersion) -> None:
        super().__init__()
        self.prompt_name = prompt_name
        self.diff = diff_versions(old, new)
        self.title = f"Diff v{old.version} → v{new.version}"
        self.full = False

    def first_text(self) -> Content:
        return render_diff(self.prompt_name, self.diff)

    def on_mount(self) -> None:
        self.query_one("#diff-body").focus()

    def action_toggle_context(self) -> None:
        """Fold unchanged lines (the default) or show every line."""
        self.full = not self.full
        context = 10**6 if self.full else 2
        self.query_one("#diff-text", Static).update(
            render_diff(self.prompt_name, self.diff, context=context)
        )
