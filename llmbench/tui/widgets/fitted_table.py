"""A DataTable whose every line is drawn again once its columns are measured.

Textual's DataTable measures its columns when it is next idle after rows arrive, and keeps the
lines it already drew in caches whose keys do not change with the columns' widths. A line drawn
between the two (often the header of a table whose height follows its rows) stayed as it was:
the header kept its old column widths beside rows drawn at the new ones, until something else
redrew it (seen on F7's model table about one visit in three, and as the "columns shrink to
header width until r" of issue 17).
"""

from __future__ import annotations

from textual import events
from textual.widgets import DataTable


class FittedTable(DataTable[object]):
    async def _on_idle(self, event: events.Idle) -> None:
        widths = self._column_widths()
        await super()._on_idle(event)
        if self._column_widths() != widths:
            self._clear_caches()
            self.refresh()

    def _column_widths(self) -> list[int]:
        return [column.content_width for column in self.ordered_columns]
