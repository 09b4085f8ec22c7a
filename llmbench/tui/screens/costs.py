"""F5 Costs: the last 30 days — totals, cost per day, and the models and features that cost
the most."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from llmbench.tui.format import NOTHING, count, model_label, money, percent
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.metric import Metric

if TYPE_CHECKING:
    from llmbench.services.panes import CostSummary
    from llmbench.store.views import CostShare

WINDOW_DAYS = 30


class CostsScreen(PaneScreen["CostSummary"]):
    PANE_TITLE = "Costs"
    EMPTY_TEXT = (
        "No calls in the last 30 days.\n\n"
        "Run `llmbench demo` for a month of example traffic, or call a model through llmbench."
    )

    DEFAULT_CSS = """
    CostsScreen {
        #cost-metrics { height: 5; }
        #daily-cost { height: 3; margin: 0 1; }
        #cost-breakdown { height: 1fr; }
        #cost-breakdown > Vertical { width: 1fr; }
        #cost-breakdown DataTable { height: 1fr; }
    }
    """

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="cost-metrics"):
            yield Metric("Calls", id="metric-calls")
            yield Metric("Tokens", id="metric-tokens")
            yield Metric("Cost", id="metric-cost")
            yield Metric("Cache savings", id="metric-savings")
            yield Metric("Unpriced calls", id="metric-unpriced")
        yield Static("", id="daily-caption", classes="caption", markup=False)
        yield Sparkline([], id="daily-cost")
        with Horizontal(id="cost-breakdown"):
            with Vertical():
                yield Static("Top models by cost", classes="section-title")
                yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            with Vertical():
                yield Static("Top features by cost", classes="section-title")
                yield DataTable(id="features-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table_id, first in (("#models-table", "Model"), ("#features-table", "Feature")):
            table = self.query_one(table_id, DataTable)
            table.add_column(first, key="name")
            table.add_column("Calls", key="calls")
            table.add_column("Cost", key="cost")
            table.add_column("Share", key="share")

    def fetch(self) -> CostSummary:
        from llmbench.services import panes

        return panes.cost_summary(self.bench.store, WINDOW_DAYS, now=self.bench.now())

    def show(self, data: CostSummary) -> None:
        totals = data.totals
        self.set_empty(totals.calls == 0)
        self.query_one("#metric-calls", Metric).value = count(totals.calls)
        tokens = self.query_one("#metric-tokens", Metric)
        tokens.value = count(totals.tokens)
        tokens.detail = f"{count(totals.cached_tokens)} cached"
        self.query_one("#metric-cost", Metric).value = money(totals.cost)
        self.query_one("#metric-savings", Metric).value = money(totals.saving)
        self.query_one("#metric-unpriced", Metric).value = count(totals.unpriced)

        costs = [cost for _day, cost in data.daily]
        peak_day, peak = max(data.daily, key=lambda item: item[1], default=("", 0.0))
        first, last = (data.daily[0][0], data.daily[-1][0]) if data.daily else ("", "")
        self.query_one("#daily-caption", Static).update(
            f"Cost per day, {first} → {last} (UTC)   peak {money(peak)} on {peak_day or NOTHING}"
        )
        self.query_one("#daily-cost", Sparkline).data = costs

        self._fill(self.query_one("#models-table", DataTable), data, data.top_models, True)
        self._fill(self.query_one("#features-table", DataTable), data, data.top_features, False)

    @staticmethod
    def _fill(table: DataTable, data: CostSummary, parts: list[CostShare], models: bool) -> None:
        table.clear()
        for part in parts:
            if part.name is None:
                name = "(untagged)"
            else:
                name = model_label(part.name) if models else part.name
            table.add_row(name, count(part.calls), money(part.cost), percent(data.share(part)))
