"""F5 Costs: where every token and dollar went, in four views (b, t, a, s).

- Breakdown: two nested dimensions (feature → model by default; `g` steps through the others),
  each row with its cost, share of the window, calls, cost per call, tokens and its last 30
  days as a sparkline; enter drills down (a feature by model, a feature × model by day), escape
  goes back up, / narrows the rows, o opens the calls behind a row in F6 (costs_drill.py).
- Trends: daily cost stacked by model (or feature, `m`), tokens per call, the month's projection.
- Alerts: budgets with what their period has spent (b adds one, d deletes one), and budget and
  spike alerts (x acknowledges, enter opens a spike's calls, c checks now) (costs_budgets.py).
- Savings: the cache's saving and where money could be saved next.

Figures come from `llmbench.services.costs.breakdowns`, the same code as `llmbench costs`, so
the pane and the command agree. Trends and savings are read when their view is first shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Input, Sparkline, Static

from llmbench.tui.format import NOTHING, count, money
from llmbench.tui.screens.costs_budgets import CostBudgetsView
from llmbench.tui.screens.costs_drill import CostBreakdownView
from llmbench.tui.widgets.costs_breakdown import (
    BREAKDOWN_COLUMNS,
    CHILD_INDENT,
    fill_fitted,
    show_text,
)
from llmbench.tui.widgets.costs_savings import savings_text
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.metric import Metric
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.costs.pane import CostsPane
    from llmbench.services.costs.savings import Savings
    from llmbench.services.costs.trends import Trends
    from llmbench.store.alerts import AlertRow

DEFAULT_VIEW = ("feature", "model")
DEFAULT_WINDOW = "30d"
WINDOWS = ("7d", "30d", "90d")
VIEWS = ("breakdown", "trends", "alerts", "savings")
ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("When", "when"),
    ("Severity", "severity"),
    ("Kind", "kind"),
    ("Alert", "message"),
    ("State", "state"),
)
__all__ = ["CHILD_INDENT", "CostsScreen"]


class CostsScreen(CostBreakdownView, CostBudgetsView):
    PANE_TITLE = "Costs"
    EMPTY_TEXT = (
        "No calls in this window.\n\n"
        "Run `llmbench demo` for a month of example traffic, call a model through llmbench, or "
        "import another tool's logs with `llmbench import`."
    )
    AUTO_FOCUS = "#costs-table"
    PALETTE: ClassVar[dict[str, str]] = {
        "budget_new": "Set a spend limit (scope, period, US dollars) with alerts at 50/80/100 %",
        "budget_delete": "Delete the highlighted budget (asks first)",
        "costs_filter": "Narrow the cost breakdown's rows to names holding some text",
    }
    # `b` is the breakdown view, except in the alerts view, beside the budgets: a new budget.
    BINDINGS = [
        Binding("b", "show_view('breakdown')", "Breakdown", id="costs_view_breakdown"),
        Binding("b", "new_budget", "New budget", id="budget_new"),
        Binding("d", "delete_budget", "Delete budget", show=False, id="budget_delete"),
        Binding("t", "show_view('trends')", "Trends", id="costs_view_trends"),
        Binding("a", "show_view('alerts')", "Alerts", id="costs_view_alerts"),
        Binding("s", "show_view('savings')", "Savings", id="costs_view_savings"),
        Binding("g", "next_view", "Group by", id="costs_group_next"),
        Binding("G", "previous_view", "Group back", show=False, id="costs_group_previous"),
        Binding("w", "next_window", "Window", id="costs_window"),
        Binding("space", "toggle_row", "Fold", show=False, id="costs_fold"),
        Binding("m", "stack_by", "Stack by", show=False, id="costs_stack_by"),
        Binding("p", "toggle_reprice", "Today's prices", show=False, id="costs_reprice"),
        Binding("x", "acknowledge", "Acknowledge", show=False, id="costs_acknowledge"),
        Binding("c", "check", "Check now", show=False, id="costs_check"),
        Binding("enter", "drill_down", "Drill down", id="costs_drill_down", priority=True),
        Binding("escape,backspace", "up_level", "Up", show=False, id="costs_up"),
        Binding("slash", "filter", "Filter", id="costs_filter"),
        Binding("o", "open_calls", "Calls (F6)", show=False, id="costs_open_calls"),
        Binding("o", "optimize", "Optimize", id="costs_optimize"),
    ]

    DEFAULT_CSS = """
    CostsScreen {
        #cost-metrics { height: 5; }
        #daily-cost { height: 2; margin: 0 1; }
        #costs-caption { height: 1; padding: 0 1; color: $text-muted; }
        #costs-breadcrumb { height: 1; padding: 0 1; text-style: bold; }
        #costs-filter { height: 1; border: none; padding: 0 1; display: none; }
        #costs-table { height: 1fr; }
        #costs-unpriced { height: auto; max-height: 3; padding: 0 1; color: $text-warning; }
        #costs-views { height: 1fr; }
        #trend-daily { height: 1fr; }
        #trend-tokens { height: 1fr; }
        #trend-tokens > TokenHistogram { width: 1fr; }
        #trend-projection { height: 1; padding: 0 1; }
        #budgets-table { height: auto; max-height: 8; }
        #alerts-table { height: 1fr; }
        #alert-detail-scroll { height: auto; max-height: 12; }
        #alert-detail { height: auto; padding: 0 1; color: $text-muted; }
        #savings-text { padding: 0 1; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: tuple[str, ...] = DEFAULT_VIEW
        self.window = DEFAULT_WINDOW
        self.reprice = False
        self.data: CostsPane | None = None
        self.current = "breakdown"
        self.stacked_by = "model"
        self.trends: Trends | None = None
        self.savings: Savings | None = None
        self._init_levels()
        self._init_budgets()
        self._alerts: dict[str, AlertRow] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="cost-metrics"):
            yield Metric("Calls", id="metric-calls")
            yield Metric("Tokens", id="metric-tokens")
            yield Metric("Cost", id="metric-cost")
            yield Metric("Cache savings", id="metric-savings")
            yield Metric("Unpriced calls", id="metric-unpriced")
        yield Static("", id="daily-caption", classes="caption", markup=False)
        yield Sparkline([], id="daily-cost")
        yield Static("", id="costs-caption", markup=False)
        with ContentSwitcher(initial="view-breakdown", id="costs-views"):
            with Vertical(id="view-breakdown"):
                yield Static("", id="costs-breadcrumb", markup=False)
                yield Input(placeholder="filter rows by name (esc clears)", id="costs-filter")
                yield FittedTable(id="costs-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="costs-unpriced", markup=False)
            with Vertical(id="view-trends"):
                from llmbench.tui.widgets.costs_plots import StackedDailyCost, TokenHistogram

                yield Static("", id="trend-projection", markup=False)
                yield StackedDailyCost(id="trend-daily")
                with Horizontal(id="trend-tokens"):
                    yield TokenHistogram(id="trend-prompt-tokens")
                    yield TokenHistogram(id="trend-completion-tokens")
            with Vertical(id="view-alerts"):
                yield FittedTable(id="budgets-table", cursor_type="row")
                yield FittedTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="alert-detail-scroll"):  # an incident can run long
                    yield Static("", id="alert-detail", markup=False)
            with VerticalScroll(id="view-savings"):
                yield Static("Reading…", id="savings-text", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#costs-table", DataTable)
        for label, key in BREAKDOWN_COLUMNS:
            table.add_column(label, key=key)
        self._mount_budgets_table()
        alerts = self.query_one("#alerts-table", DataTable)
        for label, key in ALERT_COLUMNS:
            alerts.add_column(label, key=key)

    # -- reading -----------------------------------------------------------------------------

    def fetch(self) -> CostsPane:
        from llmbench.services.costs.pane import read_costs_pane

        level = self.level
        return read_costs_pane(
            self.bench.store,
            level.by,
            self.bench.now(),
            self.window,
            level.filters,
            reprice=self.reprice,
        )

    def reload(self) -> None:
        super().reload()
        self._read_view()

    def _read_view(self) -> None:
        store, now, window = self.bench.store, self.bench.now(), self.window
        if self.current == "trends":
            from llmbench.services.costs.trends import trends

            stacked_by = self.stacked_by
            self.read_in_thread(
                lambda: trends(store, now, stacked_by, window), self._show_trends, group="view"
            )
        elif self.current == "savings":
            from llmbench.services.costs import breakdowns as costs
            from llmbench.services.costs.savings import savings

            since, until = costs.window(window, None, now)
            self.read_in_thread(
                lambda: savings(store, since, until), self._show_savings, group="view"
            )

    def show(self, data: CostsPane) -> None:
        self.data = data
        breakdown = data.breakdown
        totals = breakdown.total
        # Drilled into a row the window no longer holds: the level stays, to go back up from.
        self.set_empty(totals.calls == 0 and not self.level.depth)
        self.query_one("#metric-calls", Metric).value = count(totals.calls)
        tokens = self.query_one("#metric-tokens", Metric)
        tokens.value = count(totals.tokens)
        tokens.detail = f"{count(totals.cached_tokens)} cached"
        self.query_one("#metric-cost", Metric).value = money(totals.cost)
        self.query_one("#metric-savings", Metric).value = money(totals.saving)
        self.query_one("#metric-unpriced", Metric).value = count(totals.unpriced)

        days = breakdown.spark_days
        peak_index = max(range(len(days)), key=lambda i: breakdown.total_daily[i], default=None)
        peak = breakdown.total_daily[peak_index] if peak_index is not None else 0.0
        show_text(
            self.query_one("#daily-caption", Static),
            f"Cost per day, {days[0]} → {days[-1]} (UTC)   peak {money(peak)} on "
            f"{days[peak_index] if peak and peak_index is not None else NOTHING}",
        )
        self.query_one("#daily-cost", Sparkline).data = list(breakdown.total_daily)
        self._caption()
        self._show_breakdown(breakdown)
        unpriced = "   ".join(
            f"{model}: {count(calls)} calls, {count(prompt + completion)} tokens"
            for model, calls, prompt, completion in data.unpriced
        )
        show_text(
            self.query_one("#costs-unpriced", Static),
            f"Unpriced (set with `llmbench prices set`): {unpriced}" if unpriced else "",
        )
        self._fill_alerts(data)

    def _caption(self) -> None:
        if self.data is None:
            return
        breakdown = self.data.breakdown
        keys = {
            "breakdown": "enter drill down · esc up · / filter · o calls · g group by · w window"
            " · space fold · p today's prices",
            "trends": "m stack by model / feature · w window",
            "alerts": "b new budget · d delete budget · x acknowledge · c check now · enter a "
            "spike's calls · esc breakdown",
            "savings": "o optimize: test and promote the candidates · w window",
        }[self.current]
        show_text(
            self.query_one("#costs-caption", Static),
            f"Last {self.data.window} ({breakdown.since[:16]} → "
            f"{breakdown.until[:16]} UTC)  ·  {keys}",
        )

    # -- keys --------------------------------------------------------------------------------

    def _switch_view(self, step: int) -> None:
        from llmbench.services.costs.pane import VIEWS

        position = VIEWS.index(self.view) if self.view in VIEWS else -1
        self.view = VIEWS[(position + step) % len(VIEWS)]
        self.reset_levels()
        self.reload()

    def action_next_view(self) -> None:
        self._switch_view(1)

    def action_previous_view(self) -> None:
        self._switch_view(-1)

    def action_toggle_reprice(self) -> None:
        self.reprice = not self.reprice
        self.reload()

    def action_next_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_view" and parameters == ("breakdown",):
            return self.current != "alerts"  # there `b` makes a budget (escape goes back)
        if action == "open_calls":
            return self.current == "breakdown"
        if action == "optimize":  # the savings' candidates, to test and promote
            return self.current == "savings"
        return True

    def action_drill_down(self) -> None:
        if self.focused is self.query_one("#costs-filter", Input):
            self.query_one("#costs-table").focus()  # enter ends typing the filter
        elif self.current == "alerts":
            alert = self.selected_alert()
            query = alert.context.get("audit_query") if alert is not None else None
            if query:
                self._open_audit(query)
        elif self.current == "breakdown":
            self.drill_into_row()

    # -- views -------------------------------------------------------------------------------

    def action_show_view(self, view: str) -> None:
        if view not in VIEWS:
            return
        self.current = view
        self.query_one("#costs-views", ContentSwitcher).current = f"view-{view}"
        self._caption()
        focus = {"breakdown": "#costs-table", "alerts": "#alerts-table"}.get(view)
        if focus:
            self.query_one(focus).focus()
        self._read_view()

    def action_stack_by(self) -> None:
        self.stacked_by = "feature" if self.stacked_by == "model" else "model"
        if self.current == "trends":
            self._read_view()

    def _show_trends(self, trends: Trends) -> None:
        from llmbench.tui.widgets.costs_plots import StackedDailyCost, TokenHistogram

        self.trends = trends
        shown = self.query_one("#trend-daily", StackedDailyCost)
        shown.draw(trends.days, trends.series)
        self.query_one("#trend-prompt-tokens", TokenHistogram).draw(
            "Prompt tokens per call (calls)", trends.prompt_tokens
        )
        self.query_one("#trend-completion-tokens", TokenHistogram).draw(
            "Completion tokens per call (calls)", trends.completion_tokens
        )
        p = trends.projection
        self.query_one("#trend-projection", Static).update(
            f"{p.month}: {money(p.month_to_date)} so far · last 7 days' pace {money(p.daily_pace)}"
            f"/day · {p.days_left:.1f} days left → heading for {money(p.projected)}"
            f"   (stacked by {trends.stacked_by}; m switches)"
        )

    def action_optimize(self) -> None:
        from llmbench.tui.screens.costs_optimize import OptimizeScreen

        self.app.push_screen(OptimizeScreen())

    def _show_savings(self, found: Savings) -> None:
        self.savings = found
        self.query_one("#savings-text", Static).update(savings_text(found))

    # -- alerts ------------------------------------------------------------------------------

    def _fill_alerts(self, data: CostsPane) -> None:
        self._fill_budgets(data)
        table = self.query_one("#alerts-table", DataTable)
        kept = highlighted_key(table)
        self._alerts = {}
        rows: list[tuple[str, tuple[str, ...]]] = []
        for alert in data.alerts:
            key = str(alert.id)
            self._alerts[key] = alert
            state = "open" if alert.open else f"acked by {alert.acked_by}"
            cells = (
                alert.created_at[:16].replace("T", " "),
                alert.severity,
                alert.kind,
                alert.message,
                state,
            )
            rows.append((key, cells))
        # Refilled after `c` while the view is on screen: auto-sized columns kept the header's
        # width until the next read.
        fill_fitted(table, ALERT_COLUMNS, rows)
        restore_cursor(table, kept)
        self._show_alert_detail()

    def selected_alert(self) -> AlertRow | None:
        key = highlighted_key(self.query_one("#alerts-table", DataTable))
        return self._alerts.get(key) if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "alerts-table":
            self._show_alert_detail()

    def _show_alert_detail(self) -> None:
        alert = self.selected_alert()
        detail = self.query_one("#alert-detail", Static)
        if alert is None:
            show_text(detail, "No budget or spike alerts. c checks budgets and spikes now.")
            return
        from llmbench.services.monitoring.alert_text import alert_lines

        # The whole alert: what happened, an incident's every spiking series, the costliest
        # calls and the next step.
        show_text(detail, "\n".join(alert_lines(alert)))

    def action_acknowledge(self) -> None:
        from llmbench.services.costs.budgets import ack_alert

        alert = self.selected_alert() if self.current == "alerts" else None
        if alert is None or not alert.open:
            return
        store, who = self.bench.store, self.bench.reviewer
        self.act_in_thread(
            lambda: ack_alert(store, alert.id, who), lambda _: self.reload(), what="Acknowledge"
        )

    def action_check(self) -> None:
        from llmbench.services.costs.budgets import check_costs

        store, now = self.bench.store, self.bench.now()

        def done(result: object) -> None:
            found = len(getattr(result, "new_alert_ids", []))
            self.notify(f"{found} new alert{'s' if found != 1 else ''}", title="Costs checked")
            self.reload()

        self.act_in_thread(lambda: check_costs(store, now), done, what="Check budgets and spikes")
