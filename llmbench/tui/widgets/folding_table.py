"""A DataTable that shows the columns that fit its width, folding the least important first.

Each column has a `fold` priority (0: always shown; otherwise the highest folds first) and
the table measures its cells itself, so a resize or a refill shows what fits without a
horizontal scroll: at 80 columns F3's runs and scoreboard keep the pass rate and cost, F7's
model table its error rate and cost per hour. A foldable column with nothing to say (every
cell `—`) folds before any other. The rows keep their keys, so cursors and `get_row` work as
on any DataTable; `shown` says which columns are on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from llmbench.tui.format import NOTHING
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor


@dataclass(frozen=True)
class FoldColumn:
    key: str
    label: str
    fold: int = 0
    """0: always shown. Otherwise the column folds when the table is too narrow for it, the
    highest `fold` first."""
    cut: bool = False
    """Its cells are cut short (ending in …) when the table is still too wide once every
    foldable column has folded: a free-text column, such as a run's name."""


def shown_columns(
    columns: Sequence[FoldColumn],
    rows: Sequence[tuple[str, Sequence[str]]],
    width: int,
    padding: int = 1,
) -> tuple[str, ...]:
    """The keys of the columns that fit in `width` cells, in their order."""
    widths = [
        max(
            [cell_len(column.label), *(cell_len(cells[n]) for _key, cells in rows)],
        )
        + 2 * padding
        for n, column in enumerate(columns)
    ]
    empty = {
        n
        for n, column in enumerate(columns)
        if column.fold and rows and all(cells[n] == NOTHING for _key, cells in rows)
    }
    folding = sorted(
        (n for n, column in enumerate(columns) if column.fold),
        key=lambda n: (n not in empty, -columns[n].fold),
    )
    shown = set(range(len(columns)))
    while folding and sum(widths[n] for n in shown) > width:
        shown.discard(folding.pop(0))
    return tuple(column.key for n, column in enumerate(columns) if n in shown)


MIN_CUT_WIDTH = 12
"""A cut column keeps at least this many cells, whatever the room."""


def cut_widths(
    columns: Sequence[FoldColumn],
    rows: Sequence[tuple[str, Sequence[str]]],
    shown: Sequence[str],
    width: int,
    padding: int = 1,
) -> dict[str, int]:
    """For the shown columns that may be cut: the cells each may take so that the table fits
    in `width` (none when it fits already)."""
    widths = {
        column.key: max([cell_len(column.label), *(cell_len(cells[n]) for _key, cells in rows)])
        for n, column in enumerate(columns)
        if column.key in shown
    }
    over = sum(widths.values()) + 2 * padding * len(widths) - width
    cuttable = [column.key for column in columns if column.cut and column.key in shown]
    limits: dict[str, int] = {}
    for key in sorted(cuttable, key=lambda k: -widths[k]):  # the widest gives up most
        if over <= 0:
            break
        limit = max(widths[key] - over, MIN_CUT_WIDTH)
        if limit < widths[key]:
            over -= widths[key] - limit
            limits[key] = limit
    return limits


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` cells, ending in … when cut."""
    if cell_len(text) <= limit:
        return text
    kept = ""
    for char in text:
        if cell_len(kept + char) > limit - 1:
            break
        kept += char
    return kept + "…"


class FoldingTable(FittedTable):
    """`set_columns` once, then `fill` with every row's cells (one per column, in order)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.fold_columns: tuple[FoldColumn, ...] = ()
        self.shown: tuple[str, ...] = ()
        self._rows: list[tuple[str, tuple[str, ...]]] = []
        self._limits: dict[str, int] = {}

    def set_columns(self, columns: Sequence[FoldColumn]) -> None:
        self.fold_columns = tuple(columns)
        self._show(force=True)

    def fill(self, rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Replace every row (key, cells); the cursor stays on its row's key."""
        self._rows = [(key, tuple(cells)) for key, cells in rows]
        self._show(force=True)

    def _room(self) -> int:
        width = self.size.width or self.app.size.width
        return width - self.styles.scrollbar_size_vertical

    def _show(self, *, force: bool = False) -> None:
        room = self._room()
        shown = shown_columns(self.fold_columns, self._rows, room, self.cell_padding)
        limits = cut_widths(self.fold_columns, self._rows, shown, room, self.cell_padding)
        if shown == self.shown and limits == self._limits and not force:
            return
        self._limits = limits
        kept = highlighted_key(self)
        if shown != self.shown:
            self.clear(columns=True)
            self.shown = shown
            for column in self.fold_columns:
                if column.key in shown:
                    self.add_column(column.label, key=column.key)
        else:
            self.clear()
        places = [n for n, column in enumerate(self.fold_columns) if column.key in shown]
        keys = [self.fold_columns[n].key for n in places]
        for key, cells in self._rows:
            self.add_row(
                *(
                    cut(cells[n], limits[column]) if column in limits else cells[n]
                    for n, column in zip(places, keys, strict=True)
                ),
                key=key,
            )
        restore_cursor(self, kept)

    def on_resize(self) -> None:
        self._show()
