"""F5's breakdown view: levels to drill through (enter on a feature shows it by model, enter on
a model shows that feature × model by day; escape or backspace goes back up to the row it came
from), a breadcrumb saying where the view is, the filter that narrows the rows of the level on
screen, and the calls behind a row opened in F6."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.widgets import DataTable, Input, Static

from llmbench.services.costs.levels import Level, breadcrumb, deeper, top_level
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.costs_breakdown import (
    breakdown_columns,
    breakdown_lines,
    fill_fitted,
    show_text,
)
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.costs.breakdown_rows import Breakdown, BreakdownRow, Key
    from llmbench.services.costs.pane import CostsPane


class CostBreakdownView(PaneScreen["CostsPane"]):
    """The breakdown view's half of CostsScreen (which composes the widgets and binds keys)."""

    view: tuple[str, ...]
    current: str
    reprice: bool
    data: CostsPane | None
    action_show_view: Callable[[str], None]  # CostsScreen's: switches between the four views

    def _init_levels(self) -> None:
        self.level: Level = top_level(self.view)
        # The levels above the one shown, each with the values of the row drilled from there
        # and the rows folded there.
        self._above: list[tuple[Level, tuple[Key, ...], frozenset[str]]] = []
        self._return_to: tuple[Key, ...] | None = None
        self.folded: set[str] = set()
        self.narrowed_to = ""
        self._rows: dict[str, tuple[BreakdownRow, ...]] = {}

    def reset_levels(self) -> None:
        """Back to the top of the view (a new grouping starts there)."""
        self.level = top_level(self.view)
        self._above.clear()
        self._return_to = None
        self.folded.clear()
        self._clear_filter()

    # -- the table -----------------------------------------------------------------------------

    def _fill(self, data: Breakdown, cursor_to: tuple[Key, ...] | None = None) -> None:
        """Show `data`'s rows (folded and filtered); the cursor stays on its row, or goes to the
        row whose values are `cursor_to`."""
        table = self.query_one("#costs-table", DataTable)
        kept = highlighted_key(table)
        lines = breakdown_lines(data, self.folded, self.narrowed_to, self.reprice)
        self._rows = {line.key: line.path for line in lines}
        columns = breakdown_columns(data, self.reprice)
        fill_fitted(table, columns, [(line.key, line.cells) for line in lines])
        if cursor_to is not None:
            kept = next(
                (line.key for line in lines if tuple(r.value for r in line.path) == cursor_to),
                None,
            )
        restore_cursor(table, kept)
        self._show_breadcrumb(len(lines), data)

    def _show_breakdown(self, data: Breakdown) -> None:
        """A breakdown just read: the level it belongs to is the one on screen."""
        if data.by != self.level.by or dict(data.filters) != dict(self.level.filters):
            return  # read before the level changed; the newer read follows
        cursor_to, self._return_to = self._return_to, None
        self._fill(data, cursor_to)

    def _show_breadcrumb(self, shown: int, data: Breakdown) -> None:
        total = sum(1 + len(row.children) for row in data.rows)
        where = breadcrumb(self.level)
        if self.level.depth:
            where += "   (esc: up)" if data.rows else "   no calls in this window (esc: up)"
        if self.narrowed_to:
            where += f"   filter “{self.narrowed_to}”: {shown} of {total} rows"
        from llmbench.services.costs.conversation_spread import spread_note

        where += spread_note(data)  # by conversation: the cost of one, p50 and p95
        show_text(self.query_one("#costs-breadcrumb", Static), where)

    def selected_path(self) -> tuple[BreakdownRow, ...] | None:
        """The highlighted row and its parent (parent first), or None."""
        key = highlighted_key(self.query_one("#costs-table", DataTable))
        return self._rows.get(key) if key is not None else None

    def action_toggle_row(self) -> None:
        table = self.query_one("#costs-table", DataTable)
        key = highlighted_key(table)
        if key is None or self.data is None:
            return
        parent = key.split(".")[0]
        self.folded.symmetric_difference_update({parent})
        self._fill(self.data.breakdown)
        restore_cursor(table, parent)

    # -- levels --------------------------------------------------------------------------------

    def drill_into_row(self) -> None:
        """enter on a row: the level below it, or its calls in F6 when nothing is below."""
        path = self.selected_path()
        if path is None or self.data is None:
            return
        below = deeper(self.level, self.view, path)
        if below is None:  # a day (or a week, a month): what is below it are its calls
            self.action_open_calls()
            return
        self._above.append((self.level, tuple(row.value for row in path), frozenset(self.folded)))
        self._go_to(below)

    def action_up_level(self) -> None:
        """escape and backspace: out of the filter, then up one level, then to the breakdown."""
        if self.focused is self.query_one("#costs-filter", Input):
            self._clear_filter()
            self.query_one("#costs-table").focus()
            if self.data is not None:
                self._fill(self.data.breakdown)
            return
        if self.current != "breakdown":
            self.action_show_view("breakdown")
            return
        if self._above:
            level, self._return_to, folded = self._above.pop()
            self._go_to(level, folded)
        elif self.narrowed_to and self.data is not None:
            self._clear_filter()
            self._fill(self.data.breakdown)

    def _go_to(self, level: Level, folded: frozenset[str] = frozenset()) -> None:
        self.level = level
        self.folded = set(folded)
        self._clear_filter()
        self._rows = {}
        self.data = None  # the level above's rows: no key may act on them until this one's come
        self.query_one("#costs-table", DataTable).clear()
        self.query_one("#costs-breadcrumb", Static).update(breadcrumb(level) + "   reading…")
        self.reload()

    # -- the filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        if self.current != "breakdown":
            self.action_show_view("breakdown")
        # Shown while focused or holding a filter; set on the widget itself rather than by a
        # class, so it can take focus at once (a class restyles it only at the next refresh).
        field = self.query_one("#costs-filter", Input)
        field.display = True
        field.focus()

    def _clear_filter(self) -> None:
        self.narrowed_to = ""
        field = self.query_one("#costs-filter", Input)
        field.value = ""
        field.display = False

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "costs-filter" or event.value == self.narrowed_to:
            return
        self.narrowed_to = event.value
        if self.data is not None:
            self._fill(self.data.breakdown)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "costs-filter" and not self.narrowed_to:
            self.query_one("#costs-filter", Input).display = False

    # -- F6 ------------------------------------------------------------------------------------

    def action_open_calls(self) -> None:
        """The calls behind the highlighted row (within the level's filters) in F6."""
        from llmbench.services.costs.drill_down import audit_query_for

        path = self.selected_path()
        if path is None or self.data is None:
            return
        drill = audit_query_for(self.data.breakdown, path)
        self._open_audit(drill.query)
        if drill.dropped:
            self.app.notify(
                f"F6 cannot filter untagged {', '.join(drill.dropped)}: those filters are left out",
                severity="warning",
            )

    def _open_audit(self, query: str) -> None:
        """Switch to F6 filtered by `query` (through its public setter when it has one)."""
        self.app.switch_mode("audit")
        apply = getattr(self.app.screen, "set_query", None)
        if callable(apply):
            apply(query)
        else:
            self.app.copy_to_clipboard(query)
            self.app.notify(f"Type / and paste the filter: {query}", title="Calls behind the row")
