"""F6's column chooser: which columns the audit log shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from llmbench.tui.screens.dialogs import DIALOG_CSS
from llmbench.tui.widgets.call_log import COLUMNS


class ColumnsDialog(ModalScreen[list[str] | None]):
    """Which columns the log shows: space toggles, enter keeps, escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="columns_cancel"),
        Binding("enter", "keep", "Keep", id="columns_keep", priority=True),
    ]
    DEFAULT_CSS = "ColumnsDialog {" + DIALOG_CSS + " SelectionList { height: auto; } }"

    def __init__(self, shown: list[str]) -> None:
        super().__init__()
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Columns (space toggles, enter keeps)", classes="dialog-title")
            yield SelectionList[str](
                *(
                    Selection(column.label if column.key != "flagged" else "⚑ flagged",
                              column.key, column.key in self.shown)
                    for column in COLUMNS
                ),
                id="columns-list",
            )  # fmt: skip

    def action_keep(self) -> None:
        chosen = set(self.query_one(SelectionList).selected)
        self.dismiss([column.key for column in COLUMNS if column.key in chosen])

    def action_cancel(self) -> None:
        self.dismiss(None)
