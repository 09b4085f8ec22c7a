"""F7 Monitor: the last 24 hours next to the last 7 days, and calls per hour."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import DataTable, Sparkline, Static

from llmbench.tui.format import count, millis, money, percent
from llmbench.tui.screens.base import PaneScreen

if TYPE_CHECKING:
    from llmbench.services.panes import MonitorHeadline, Window

RECENT_HOURS = 24
BASELINE_DAYS = 7

# One row per headline metric: its label and how to read it from a window.
HEADLINE_ROWS: tuple[tuple[str, str, Callable[[Window], str]], ...] = (
    ("calls", "Calls", lambda w: count(w.stats.calls)),
    ("p50", "Latency p50 (ok calls)", lambda w: millis(w.stats.p50_ms)),
    ("p95", "Latency p95 (ok calls)", lambda w: millis(w.stats.p95_ms)),
    ("errors", "Error rate", lambda w: percent(w.rate(w.stats.errors))),
    ("timeouts", "Timeout rate", lambda w: percent(w.rate(w.stats.timeouts))),
    ("rate_limited", "429 rate", lambda w: percent(w.rate(w.stats.rate_limited))),
    ("cache_hits", "Cache hit rate", lambda w: percent(w.rate(w.stats.cache_hits))),
    ("cost_per_hour", "Cost per hour", lambda w: money(w.cost_per_hour)),
)


class MonitorScreen(PaneScreen["MonitorHeadline"]):
    PANE_TITLE = "Monitor"
    EMPTY_TEXT = (
        "No calls in the last 7 days.\n\n"
        "Run `llmbench demo` for example traffic, or call a model through llmbench."
    )

    DEFAULT_CSS = """
    MonitorScreen {
        #headline-table { height: auto; max-height: 12; margin-bottom: 1; }
        #hourly-calls { height: 8; margin: 0 1; }
    }
    """

    def compose_body(self) -> ComposeResult:
        yield Static(
            f"Last {RECENT_HOURS} h against the last {BASELINE_DAYS} days (UTC)",
            classes="section-title",
        )
        yield DataTable(id="headline-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="hourly-caption", classes="caption", markup=False)
        yield Sparkline([], id="hourly-calls")

    def on_mount(self) -> None:
        table = self.query_one("#headline-table", DataTable)
        table.add_column("Metric", key="metric")
        table.add_column(f"Last {RECENT_HOURS} h", key="recent")
        table.add_column(f"Last {BASELINE_DAYS} days", key="baseline")

    def fetch(self) -> MonitorHeadline:
        from llmbench.services import panes

        return panes.monitor_headline(
            self.bench.store, RECENT_HOURS, baseline_days=BASELINE_DAYS, now=self.bench.now()
        )

    def show(self, data: MonitorHeadline) -> None:
        self.set_empty(data.baseline.stats.calls == 0)
        table = self.query_one("#headline-table", DataTable)
        table.clear()
        for key, label, read in HEADLINE_ROWS:
            table.add_row(label, read(data.recent), read(data.baseline), key=key)
        peak_hour, peak = max(data.hourly_calls, key=lambda item: item[1], default=("", 0))
        self.query_one("#hourly-caption", Static).update(
            f"Calls per hour over the last {BASELINE_DAYS} days   "
            f"peak {count(peak)} at {peak_hour.replace('T', ' ')}:00"
        )
        self.query_one("#hourly-calls", Sparkline).data = [float(n) for _h, n in data.hourly_calls]
