"""A DataTable's cursor across refills: the key of the row it is on, and putting it back there."""

from __future__ import annotations

from textual.widgets import DataTable


def highlighted_key(table: DataTable) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


def restore_cursor(table: DataTable, key: str | None) -> None:
    """After a refill, put the cursor back on the row it was on, if that row is still there."""
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key), animate=False)
