"""F6 Audit: the latest calls in the audit log, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING, count, millis, model_label, money, timestamp
from llmbench.tui.screens.base import PaneScreen, highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.panes import LatestCalls

PAGE = 100


class AuditScreen(PaneScreen["LatestCalls"]):
    PANE_TITLE = "Audit"
    EMPTY_TEXT = (
        "The audit log is empty.\n\n"
        "Every call made through llmbench lands here. Run `llmbench demo` to see example calls."
    )

    DEFAULT_CSS = """
    AuditScreen #calls-table { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static("", id="audit-caption", classes="caption")
        yield DataTable(id="calls-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#calls-table", DataTable)
        for label, key in (
            ("#", "id"),
            ("Time (UTC)", "ts"),
            ("Model", "model"),
            ("Status", "status"),
            ("Tokens in/out", "tokens"),
            ("Cost", "cost"),
            ("Latency", "latency"),
            ("Feature", "feature"),
        ):
            table.add_column(label, key=key)

    def fetch(self) -> LatestCalls:
        from llmbench.services import panes

        return panes.latest_calls(self.bench.store, PAGE)

    def show(self, data: LatestCalls) -> None:
        self.set_empty(data.total == 0)
        self.query_one("#audit-caption", Static).update(
            f"Latest {count(len(data.rows))} of {count(data.total)} calls, newest first"
        )
        table = self.query_one("#calls-table", DataTable)
        selected = highlighted_key(table)
        table.clear()
        for call in data.rows:
            table.add_row(
                str(call.id),
                timestamp(call.ts),
                model_label(call.model),
                call.status,
                f"{count(call.prompt_tokens)} / {count(call.completion_tokens)}",
                money(call.cost),
                millis(call.latency_ms),
                call.feature or NOTHING,
                key=str(call.id),
            )
        restore_cursor(table, selected)
