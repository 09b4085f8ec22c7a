"""F1: every key of the pane underneath, with the binding ids the config's [keymap] uses."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING
from llmbench.tui.widgets.fitted_table import FittedTable


@dataclass(frozen=True)
class KeyHelp:
    key: str
    description: str
    binding_id: str | None
    scope: str  # "pane" or "everywhere"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close_help"),
        Binding("f1", "dismiss", "Close", show=False, id="close_help_f1"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help-box {
            width: 96;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: round $accent;
            background: $surface;
            padding: 0 1;
        }
        #help-title { text-style: bold; padding-bottom: 1; }
        #help-hint { color: $text-muted; padding-top: 1; }
        DataTable { height: auto; max-height: 30; }
    }
    """

    def __init__(self, pane_title: str, keys: list[KeyHelp]) -> None:
        super().__init__()
        self.pane_title = pane_title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(f"Keys — {self.pane_title}", id="help-title")
            yield FittedTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                "F2–F8 switch panes from anywhere, even while typing (the editor keeps its "
                "draft: F2 comes back to it; a dialog holding typed input asks to be finished or "
                "cancelled first). ctrl+o labels everything on screen; a label's key "
                "jumps there. In the editor, alt+1…8 and alt+up/down move between sections.\n"
                'Remap a key in the config file: [keymap] <binding id> = "<keys>". escape closes.',
                id="help-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "What it does", "Binding id", "Where")
        for item in self.keys:
            table.add_row(item.key, item.description, item.binding_id or NOTHING, item.scope)
