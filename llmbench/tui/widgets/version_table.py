"""A prompt's version history as a table: version (◆ on the one marked for a diff), labels,
author, date, calls and commit message, the cursor on production unless told otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widgets import DataTable

from llmbench.tui.format import NOTHING, count, day, one_line
from llmbench.tui.widgets.table_cursor import restore_cursor

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


class VersionTable(DataTable[str]):
    def on_mount(self) -> None:
        self._fit_columns([])

    def show_history(
        self, history: PromptHistory, marked: int | None, selected: str | None
    ) -> None:
        """Fill the table with the history's versions (`marked` is the version id marked for
        a diff) and put the cursor on `selected`, else on the production version."""
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
        self._fit_columns(cells)
        for row, values in zip(history.versions, cells, strict=True):
            self.add_row(*values, key=str(row.id))
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
