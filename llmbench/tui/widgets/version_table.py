"""A prompt's version history as a table: version (◆ on the one marked for a diff), labels,
author, date, calls and commit message, the cursor on production unless told otherwise.

F2 mounts it, and the version's detail below it, with the first history it shows
(`versions_in`), not in its first frame: loading, styling and drawing a DataTable and a scroll
view cost that frame ~10 ms, for panels that would be empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widget import Widget
from textual.widgets import DataTable

from llmbench.tui.format import NOTHING, count, day, one_line
from llmbench.tui.widgets import laid_out
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.prompts.library import PromptHistory

PRODUCTION = "production"

VERSION_COLUMNS = (
    ("Ver", "version"),
    ("Labels", "labels"),
    ("By", "author"),
    ("Date", "date"),
    ("Calls", "calls"),
    ("Message", "message"),
)


def versions_in(side: Widget) -> VersionTable:
    """The table in F2's `side` panel, mounted there the first time it is asked for, over the
    version's detail (`#version-detail-text`). Both can be filled at once: what they are given
    before they have mounted is kept."""
    found = side.query(VersionTable)
    if found:
        return found.first()
    table = VersionTable(id="versions-table", cursor_type="row", zebra_stripes=True)
    # Sized by the layout alone (laid_out.py): each version's text has its own height, and a
    # new height would otherwise lay the screen out twice on every cursor move.
    detail = laid_out.VerticalScroll(id="version-detail")
    side.mount(table, detail)
    # Mounted, not passed as a child: a child is only added as its parent composes, later.
    detail.mount(laid_out.Static("", id="version-detail-text"))
    return table


class VersionTable(DataTable[str]):
    _shown: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None = None
    """The keys and cells the table was last filled with."""

    def on_mount(self) -> None:
        if not self.columns:  # filled before it mounted: its columns fit those rows already
            self._fit_columns([])

    @property
    def cursor_key(self) -> str | None:
        """The key (version id) of the row under the cursor; None while the table is empty."""
        return highlighted_key(self)

    def show_history(
        self, history: PromptHistory, marked: int | None, selected: str | None
    ) -> None:
        """Fill the table with the history's versions (`marked` is the version id marked for
        a diff), unless it shows them already, and put the cursor on `selected`, else on the
        production version."""
        cells = [
            (
                f"{'◆ ' if marked == row.id else ''}v{row.version}",
                " ".join(row.labels),
                row.author or NOTHING,
                day(row.created_at),
                count(row.calls),
                one_line(row.message, 40),
            )
            for row in history.versions
        ]
        shown = (tuple(str(row.id) for row in history.versions), tuple(cells))
        # The same rows again (a refresh, a read of the prompt on screen): refilling would
        # clear the table's caches, redraw it and lay the screen out for nothing.
        if shown != self._shown or self.row_count != len(cells):
            self._shown = shown
            self._fit_columns(cells)
            for key, values in zip(shown[0], cells, strict=True):
                self.add_row(*values, key=key)
        if selected is None:
            selected = next(
                (str(row.id) for row in history.versions if PRODUCTION in row.labels), None
            )
        restore_cursor(self, selected)

    def _fit_columns(self, cells: list[tuple[str, ...]]) -> None:
        """Columns as wide as their widest cell, set before the rows go in. A DataTable that
        sizes its columns itself can draw a frame between add_row and the sizing, and then keeps
        the cells it cached at the old width (the header's) until it next changes."""
        self.clear(columns=True)
        for index, (label, key) in enumerate(VERSION_COLUMNS):
            width = max([cell_len(label), *(cell_len(values[index]) for values in cells)])
            self.add_column(label, key=key, width=width)
