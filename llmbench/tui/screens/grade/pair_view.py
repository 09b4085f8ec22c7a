"""Pairwise grading's two replies side by side, A on the left and B on the right, as a reviewer
compares them line against line. When the screen cannot give each reply MIN_SIDE cells they
are stacked instead (A above B), since a reply squeezed into a narrow strip reads worse than one
below the other."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from llmbench.tui.widgets import laid_out

MIN_SIDE = 36
"""Cells each reply needs to be read side by side; 80 columns leave about 38 each."""
GAP = 1


class PairView(laid_out.Vertical):
    """The two replies of a pair with their A/B labels; stacked when too narrow. Sized by the
    layout alone, as the session's item (laid_out.py): a new pair is one layout."""

    DEFAULT_CSS = """
    PairView {
        height: auto;
        #pair-columns { height: auto; }
        .pair-side { width: 1fr; height: auto; }
        #pair-left { margin-right: 1; }
        &.-stacked #pair-columns { layout: vertical; }
        &.-stacked .pair-side { width: 100%; margin: 0 0 1 0; }
    }
    """

    def compose(self) -> ComposeResult:
        with laid_out.Horizontal(id="pair-columns"):
            yield laid_out.Static("", id="pair-left", classes="pair-side")
            yield laid_out.Static("", id="pair-right", classes="pair-side")

    @property
    def stacked(self) -> bool:
        return self.has_class("-stacked")

    def show(self, left: str, right: str) -> None:
        show_content(self.query_one("#pair-left", Static), _side("A  (left)", left))
        show_content(self.query_one("#pair-right", Static), _side("B  (right)", right))

    def clear(self) -> None:
        show_content(self.query_one("#pair-left", Static), Content(""))
        show_content(self.query_one("#pair-right", Static), Content(""))

    def on_resize(self) -> None:
        width = self.content_size.width
        self.set_class(width > 0 and (width - GAP) // 2 < MIN_SIDE, "-stacked")


def _side(label: str, reply: str) -> Content:
    return Content.assemble((label, "bold $text-accent"), "\n", reply)


def show_content(widget: Static, content: Content, *, layout: bool = True) -> None:
    """Set a text unless the widget already shows it, styles included: an update draws the text
    anew and lays the screen out again, and a grading key changes one or two of its texts."""
    shown = widget.content
    if isinstance(shown, Content) and shown.is_same(content):
        return
    widget.update(content, layout=layout)
