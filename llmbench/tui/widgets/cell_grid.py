"""Every cell of a run at a glance: a row per case × repeat, a column per prompt version ×
model, each cell its status and score, updated in place as cells finish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import DataTable

from llmbench.tui.format import model_label, one_line
from llmbench.tui.widgets.output_columns import verdict_mark

if TYPE_CHECKING:
    from llmbench.services.compare.board import RunBoard
    from llmbench.store.evaluation.run_cells import CellKey

CASE_WIDTH = 36


def row_key(case_id: int | None, repeat: int) -> str:
    return f"{case_id}:{repeat}"


class CellGrid(DataTable[str]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._columns: dict[tuple[int | None, str], str] = {}

    def load(self, board: RunBoard) -> None:
        self.clear(columns=True)
        self.add_column("Case", key="case")
        self._columns = {}
        for index, column in enumerate(board.columns):
            key = f"g{index}"
            self._columns[(column.version_id, column.model)] = key
            self.add_column(f"{column.label} · {model_label(column.model)}", key=key)
        repeated = any(row.repeat for row in board.rows)
        for row in board.rows:
            title = one_line(row.title, CASE_WIDTH)
            if repeated:
                title = f"{title} #{row.repeat + 1}"
            marks = [verdict_mark(board.state(column, row)) for column in board.columns]
            self.add_row(title, *marks, key=row_key(row.case_id, row.repeat))

    def refresh_cells(self, board: RunBoard, keys: set[CellKey]) -> None:
        rows = {row_key(row.case_id, row.repeat): row for row in board.rows}
        columns = {(column.version_id, column.model): column for column in board.columns}
        for version_id, model, case_id, repeat in keys:
            key = row_key(case_id, repeat)
            column = columns.get((version_id, model))
            if key not in rows or column is None:
                continue
            mark = verdict_mark(board.state(column, rows[key]))
            self.update_cell(key, self._columns[(version_id, model)], mark)
