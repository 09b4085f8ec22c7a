"""A headline number with its label above it and an optional note below, as on a dashboard
card."""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from llmbench.tui.format import NOTHING


class Metric(Widget):
    DEFAULT_CSS = """
    Metric {
        width: 1fr;
        height: 5;
        padding: 0 1;
        border: round $primary 40%;
    }
    """

    value: reactive[str] = reactive(NOTHING)
    detail: reactive[str] = reactive("")

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label

    def render(self) -> RenderResult:
        parts: list[Content | tuple[str, str] | str] = [
            (self.label, "dim"),
            "\n",
            (self.value, "bold"),
        ]
        if self.detail:
            parts += ["\n", (self.detail, "dim")]
        return Content.assemble(*parts)
