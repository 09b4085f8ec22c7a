"""F5's breakdown as table lines: each row's cells (cost first, so it stays in sight at 80
columns), nested rows under their parent unless folded, narrowed by the pane's filter; and a
table filled with columns as wide as their widest cell."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widgets import DataTable, Static

from llmbench.services.costs.levels import matches
from llmbench.tui.format import count, model_label, money, percent
from llmbench.tui.widgets.costs_spark import spark_text

if TYPE_CHECKING:
    from llmbench.services.costs.breakdown_rows import Breakdown, BreakdownRow

CHILD_INDENT = "  └ "
# Cost and share right after the name: what a narrow terminal keeps in view.
BREAKDOWN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("", "name"),
    ("Cost", "cost"),
    ("Share", "share"),
    ("Calls", "calls"),
    ("Per call", "per_call"),
    ("Prompt tok", "prompt"),
    ("Compl. tok", "completion"),
    ("Cached tok", "cached"),
    ("Last 30 days", "spark"),
)
REPRICED_COLUMN = ("Today's prices", "repriced")
# Since m014, shown before the sparkline only when the window counts some (most logs have
# none: the table keeps its width).
TOKEN_DETAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Reasoning tok", "reasoning"),
    ("Cache wr. tok", "cache_write"),
)


def detail_columns(data: Breakdown) -> tuple[tuple[str, str], ...]:
    total = data.total
    counted = {"reasoning": total.reasoning_tokens, "cache_write": total.cache_write_tokens}
    return tuple(column for column in TOKEN_DETAIL_COLUMNS if counted[column[1]])


def breakdown_columns(data: Breakdown, reprice: bool) -> list[tuple[str, str]]:
    """The table's columns for `data`: the name's header names the dimensions."""
    return [
        (" → ".join(data.by), "name"),
        *BREAKDOWN_COLUMNS[1:-1],
        *detail_columns(data),
        BREAKDOWN_COLUMNS[-1],
        *((REPRICED_COLUMN,) if reprice else ()),
    ]


@dataclass(frozen=True)
class Line:
    key: str  # "3" for the fourth row, "3.1" for its second nested row
    cells: tuple[str, ...]
    path: tuple[BreakdownRow, ...]  # the row and its parent, parent first


def row_name(dimension: str, row: BreakdownRow) -> str:
    return model_label(row.label) if dimension == "model" and row.value else row.label


def row_cells(
    name: str, row: BreakdownRow, reprice: bool, details: Collection[str] = ()
) -> tuple[str, ...]:
    figures = row.figures
    extra = (money(figures.repriced),) if reprice else ()
    counted = {"reasoning": figures.reasoning_tokens, "cache_write": figures.cache_write_tokens}
    return (
        name,
        money(figures.cost),
        percent(row.share),
        count(figures.calls),
        money(figures.cost_per_call),
        count(figures.prompt_tokens),
        count(figures.completion_tokens),
        count(figures.cached_tokens),
        *(count(counted[key]) for _, key in TOKEN_DETAIL_COLUMNS if key in details),
        spark_text(row.daily),
        *extra,
    )


def breakdown_lines(
    data: Breakdown, folded: Collection[str], narrowed_to: str, reprice: bool
) -> list[Line]:
    """The lines to show: a nested row under its parent unless the parent is folded; with a
    filter, the rows whose name holds it (a matching parent keeps all its nested rows, a
    matching nested row keeps its parent)."""
    lines: list[Line] = []
    details = {key for _, key in detail_columns(data)}
    nested_by = data.by[1] if len(data.by) > 1 else ""
    for index, row in enumerate(data.rows):
        key = f"{index}"
        name = row_name(data.by[0], row)
        parent_matches = matches(narrowed_to, name)
        children = [
            (child_index, child, row_name(nested_by, child))
            for child_index, child in enumerate(row.children)
        ]
        if not parent_matches:
            children = [item for item in children if matches(narrowed_to, item[2])]
            if not children:
                continue
        is_folded = key in folded and bool(row.children)
        marker = "▸ " if is_folded else ("▾ " if row.children else "")
        lines.append(Line(key, row_cells(marker + name, row, reprice, details), (row,)))
        if is_folded:
            continue
        for child_index, child, child_name in children:
            cells = row_cells(CHILD_INDENT + child_name, child, reprice, details)
            lines.append(Line(f"{index}.{child_index}", cells, (row, child)))
    return lines


def show_text(widget: Static, text: str) -> None:
    """Set a line of text unless it already says that: every update lays the screen out again,
    and F5 sets its captions on every read (every visit), mostly to what they say."""
    if widget.content != text:
        widget.update(text)


def fill_fitted(
    table: DataTable[object],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[str, Sequence[str]]],
) -> None:
    """Put `rows` in a table, each column as wide as its widest cell, changing only what
    differs from what it shows. Any change to a DataTable throws away every cell it has drawn,
    and drawing them again is most of what a refill costs (F5's table: ~0.5 ms a cell, most of
    a visit to F5); F5 reads its figures again on every visit and view change, and they are
    mostly the same. Same rows and widths: nothing is touched. Same rows, keys and widths with
    some new figures: only those cells are set (the table draws its cells again, but keeps its
    rows, cursor and scroll). Otherwise the table is refilled, widths set
    before the rows go in: a DataTable that sizes its columns itself can draw a frame between
    add_row and the sizing, and then keeps the cells it cached at the header's width."""
    widths = [
        max([cell_len(label), *(cell_len(cells[position]) for _, cells in rows)])
        for position, (label, _) in enumerate(columns)
    ]
    shape = [(label, key, width) for (label, key), width in zip(columns, widths, strict=True)]
    shown = [
        (column.label.plain, column.key.value, column.width) for column in table.ordered_columns
    ]
    if shape == shown and [row.key.value for row in table.ordered_rows] == [k for k, _ in rows]:
        for key, cells in rows:
            for (_, column), value, before in zip(columns, cells, table.get_row(key), strict=True):
                if value != before:
                    table.update_cell(key, column, value)
        return
    table.clear(columns=True)
    for (label, key), width in zip(columns, widths, strict=True):
        table.add_column(label, key=key, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key)
