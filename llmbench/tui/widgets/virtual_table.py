"""A read-only table that draws only the lines on screen (Textual's Line API).

Textual's DataTable measures every cell of every row when rows arrive (~0.2 ms a row), so a
thousand-row list costs a fifth of a second on each refill. This table keeps rows as plain
tuples and renders the visible window on demand: a refill costs what a Python list does.
Columns have fixed widths except one flexible column that takes the remaining width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

# The flexible column (a prompt's name, say) keeps at least this many cells while columns fold.
MIN_FLEXIBLE = 16


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None
    """Cells wide; None makes this the flexible column."""
    align_right: bool = False
    fold: int = 0
    """0: always shown. Otherwise the column folds away when the flexible column would be
    narrower than MIN_FLEXIBLE, the highest `fold` first (80 columns keep what matters)."""


@dataclass(frozen=True)
class TableRow:
    key: str
    cells: tuple[str, ...]


def _fit(text: str, width: int, right: bool) -> str:
    if len(text) > width:
        return text[: max(width - 1, 0)] + "…" if width > 0 else ""
    return text.rjust(width) if right else text.ljust(width)


class VirtualTable(ScrollView, can_focus=True):
    """Rows with a cursor; posts Highlighted when the cursor lands on a row, Selected on enter."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table_up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table_page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table_page_down"),
        Binding("home", "edge(0)", "First", show=False, id="table_first"),
        Binding("end", "edge(1)", "Last", show=False, id="table_last"),
        Binding("enter", "select", "Open", show=False, id="table_select"),
    ]
    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--even",
    }
    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        & > .virtual-table--header { text-style: bold; color: $text-accent; }
        & > .virtual-table--even { background: $surface-lighten-1; }
        & > .virtual-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor = reactive(0, init=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Highlighted):
        pass

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.rows: list[TableRow] = []
        self._index: dict[str, int] = {}

    # -- data ----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        return self.rows[self.cursor].key if self.rows else None

    def set_rows(self, rows: Sequence[TableRow], *, keep: str | None = None) -> None:
        """Replace every row; the cursor goes to `keep` (or stays on its key) if still there,
        else to the first row. Posts nothing: the caller knows it changed the rows."""
        before = keep if keep is not None else self.cursor_key
        self.rows = list(rows)
        self._index = {row.key: index for index, row in enumerate(self.rows)}
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.set_reactive(
            VirtualTable.cursor, self._index.get(before, 0) if before is not None else 0
        )
        self._scroll_to_cursor()
        self.refresh()

    def move_to(self, key: str) -> None:
        if key in self._index:
            self.cursor = self._index[key]

    # -- cursor --------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        if self.rows and old != new:
            self.post_message(self.Highlighted(self, self.rows[new].key))

    def _scroll_to_cursor(self) -> None:
        # Row i is virtual line i + 1; the header covers the top line of the viewport, so keep
        # the line above the cursor in view too.
        self.scroll_to_region(
            Region(0, self.cursor, 1, 2), animate=False, force=True, immediate=True
        )

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.size.height - 2, 1)

    def action_edge(self, end: int) -> None:
        self.cursor = len(self.rows) - 1 if end else 0

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.rows[self.cursor].key))

    def on_click(self, event: events.Click) -> None:
        line = event.y + round(self.scroll_offset.y)
        if 1 <= line <= len(self.rows):
            self.focus()
            if self.cursor == line - 1:
                self.action_select()
            self.cursor = line - 1

    # -- drawing -------------------------------------------------------------------------------

    def _widths(self, total: int) -> list[int]:
        """Each column's width, 0 for a folded one."""
        shown = list(range(len(self.columns)))
        folding = sorted(
            (n for n, column in enumerate(self.columns) if column.fold),
            key=lambda n: -self.columns[n].fold,
        )
        while True:
            fixed = sum(self.columns[n].width or 0 for n in shown) + len(shown)
            if total - fixed >= MIN_FLEXIBLE or not folding:
                break
            shown.remove(folding.pop(0))
        flexible = max(total - fixed, 8)
        return [
            0 if n not in shown else (column.width if column.width is not None else flexible)
            for n, column in enumerate(self.columns)
        ]

    def _line(self, cells: Sequence[str], widths: Sequence[int], style: Style) -> Strip:
        text = " ".join(
            _fit(cell, width, column.align_right)
            for cell, width, column in zip(cells, widths, self.columns, strict=False)
            if width
        )
        width = self.size.width
        return Strip([Segment(_fit(" " + text, width, False), style)], width)

    def render_line(self, y: int) -> Strip:
        widths = self._widths(self.size.width - 1)
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("virtual-table--header")
            return self._line([column.label for column in self.columns], widths, header)
        index = y - 1 + round(self.scroll_offset.y)
        if index >= len(self.rows):
            return Strip.blank(self.size.width, base)
        style = base
        if index % 2 == 1:
            style += self.get_component_rich_style("virtual-table--even")
        if index == self.cursor:
            style += self.get_component_rich_style("virtual-table--cursor")
        return self._line(self.rows[index].cells, widths, style)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
