"""F7 Monitor: health of a chosen window (1 h, 24 h, 7 d, 30 d) per model and overall —
requests, latency and time-to-first-token percentiles, error / timeout / 429 and cache-hit rates,
token distributions, cost per hour — quality over time (checks and feedback, the judge on
production samples, diverging answers to similar queries), and the alerts list with drift
checks, retention purge and the integrity check one key away."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from llmbench.tui.format import NOTHING, count, millis, model_label, money, percent, timestamp
from llmbench.tui.screens.maintenance import MaintenancePane
from llmbench.tui.screens.monitor_quality import (
    consistency_caption,
    consistency_values,
    judge_caption,
    judge_values,
)
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.folding_table import FoldColumn, FoldingTable
from llmbench.tui.widgets.metric import Metric
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.core.stats import Histogram
    from llmbench.services.monitoring.health import DriftCheck, Health, MonitorReport, QualityDay
    from llmbench.store.alerts import AlertRow

# (key, window id, label): mirrors services.monitor.WINDOWS, which loads in the worker.
WINDOW_KEYS: tuple[tuple[str, str, str], ...] = (
    ("1", "1h", "1 hour"),
    ("2", "24h", "24 hours"),
    ("3", "7d", "7 days"),
    ("4", "30d", "30 days"),
)
DEFAULT_WINDOW = "24h"
ALL_ROW = "__all_models__"  # the models table's first row, every model together

# At 80 columns a model keeps its requests, p50, p95, error rate and cost per hour; the rest
# fold, the highest `fold` first, and come back as the terminal widens.
MODEL_COLUMNS: tuple[FoldColumn, ...] = (
    FoldColumn("model", "Model"),
    FoldColumn("requests", "Requests", fold=1),
    FoldColumn("p50", "p50"),
    FoldColumn("p95", "p95", fold=2),
    FoldColumn("p99", "p99", fold=4),
    FoldColumn("ttft", "TTFT p50", fold=3),
    FoldColumn("errors", "Errors"),
    FoldColumn("timeouts", "Timeout", fold=6),
    FoldColumn("limited", "429", fold=7),
    FoldColumn("cache", "Cache", fold=5),
    FoldColumn("tokens", "Tokens in/out", fold=8),
    FoldColumn("cost", "Cost / h"),
)


def _tokens(value: float | None) -> str:
    return NOTHING if value is None else f"{value:,.0f}"


def model_row(health: Health, hours: int) -> tuple[str, ...]:
    p50, p95, p99 = health.latency
    return (
        model_label(health.name),
        count(health.requests),
        millis(p50),
        millis(p95),
        millis(p99),
        millis(health.ttft[0]),
        percent(health.rate(health.errors)),
        percent(health.rate(health.timeouts)),
        percent(health.rate(health.rate_limited)),
        percent(health.rate(health.cache_hits)),
        f"{_tokens(health.prompt_tokens[0])} / {_tokens(health.completion_tokens[0])}",
        money(health.cost / hours),
    )


def _pair(first: float | None, second: float | None) -> str:
    """Two latencies sharing one unit: '1,579 · 4,328 ms'."""
    if first is None or second is None:
        return NOTHING
    if second >= 10_000:
        return f"{first / 1000:,.1f} · {second / 1000:,.1f} s"
    return f"{first:,.0f} · {second:,.0f} ms"


def _histogram_caption(
    name: str, histogram: Histogram, p50: float | None, p95: float | None
) -> str:
    if not histogram.edges:
        return f"{name}: no successful calls"
    return f"{name}, log bins: p50 {_tokens(p50)} p95 {_tokens(p95)}"


def _quality_caption(days: list[QualityDay]) -> str:
    """The latest day's value of each quality signal that has any."""
    shown = []
    for read, name in (("pass_rate", "checks"), ("thumbs_up", "thumbs up"), ("rating", "rating")):
        value = next((v for day in reversed(days) if (v := getattr(day, read)) is not None), None)
        if value is not None:
            shown.append(f"{name} {f'{value:.2f}' if read == 'rating' else percent(value)}")
    if not shown:
        return "Quality 30 d: no checks or feedback yet"
    return "Quality 30 d, latest: " + " · ".join(shown)


def alert_detail(alert: AlertRow) -> str:
    """The highlighted alert in its own words (a drift, a spike incident, a budget, a purge:
    each from its own facts) and the suggested next step."""
    from llmbench.services.monitoring.alert_text import alert_brief

    return alert_brief(alert)


# Below this width the seven cards no longer fit side by side with their borders.
COMPACT_WIDTH = 110


class MonitorScreen(MaintenancePane["MonitorReport"]):
    PANE_TITLE = "Monitor"
    EMPTY_TEXT = (
        "No calls recorded yet.\n\n"
        "Run `llmbench demo` for example traffic, or call a model through llmbench."
    )
    PALETTE: ClassVar[dict[str, str]] = {
        "audit_verify": "Walk the audit chain: say whether any call was edited or removed",
        "retention_purge": "Delete calls older than the retention period (asks first)",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"window('{window}')", label, id=f"monitor_window_{window}")
            for key, window, label in WINDOW_KEYS
        ),
        Binding("a", "ack", "Ack alert", id="monitor_ack"),
        Binding("c", "check", "Check drift", id="monitor_check"),
    ]

    DEFAULT_CSS = """
    MonitorScreen {
        #window-bar { height: 1; padding: 0 1; }
        #health-metrics { height: 5; }
        #health-metrics Metric { min-width: 14; }
        /* A default terminal (80×24): the seven cards as two rows of figures without borders,
           and the body scrolls so the alerts stay reachable. */
        &.-compact {
            #pane-body { overflow-y: auto; }
            #health-metrics { layout: grid; grid-size: 4; grid-gutter: 0 1; height: 4; }
            #health-metrics Metric { border: none; height: 2; min-width: 0; padding: 0 1; }
        }
        .spark-row { height: 4; }
        .spark-row > Vertical { width: 1fr; height: 4; }
        .spark-row Sparkline { height: 3; margin: 0 1; }
        #models-table { height: auto; max-height: 10; }
        #alerts-table { height: 1fr; min-height: 4; }
        #alert-detail { height: auto; max-height: 3; padding: 0 1; }
        #integrity { height: 1; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.window = DEFAULT_WINDOW
        self.report: MonitorReport | None = None

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < COMPACT_WIDTH, "-compact")

    def compose_body(self) -> ComposeResult:
        yield Static("", id="window-bar")
        with Horizontal(id="health-metrics"):
            yield Metric("Requests", id="metric-requests")
            yield Metric("Latency p50/p95", id="metric-latency")
            yield Metric("TTFT p50/p95", id="metric-ttft")
            yield Metric("Error rate", id="metric-errors")
            yield Metric("Timeouts · 429", id="metric-limits")
            yield Metric("Cache hit rate", id="metric-cache")
            yield Metric("Cost per hour", id="metric-cost")
        with Horizontal(classes="spark-row"):
            for spark_id in ("requests", "p95", "failures", "cost"):
                with Vertical():
                    yield Static("", id=f"caption-{spark_id}", classes="caption", markup=False)
                    yield Sparkline([], id=f"spark-{spark_id}")
        yield FoldingTable(id="models-table")
        with Horizontal(classes="spark-row"):
            for spark_id in ("prompt-tokens", "completion-tokens", "quality"):
                with Vertical():
                    yield Static("", id=f"caption-{spark_id}", classes="caption", markup=False)
                    yield Sparkline([], id=f"spark-{spark_id}")
        with Horizontal(classes="spark-row", id="production-row"):
            for spark_id in ("judge", "consistency"):
                with Vertical():
                    yield Static("", id=f"caption-{spark_id}", classes="caption", markup=False)
                    yield Sparkline([], id=f"spark-{spark_id}")
        yield Static("", id="alerts-title", classes="section-title", markup=False)
        yield FittedTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alert-detail", markup=False)
        yield Static(
            "Integrity: not checked in this session (v walks the audit chain)",
            id="integrity",
            markup=False,
        )

    def on_mount(self) -> None:
        self.query_one("#models-table", FoldingTable).set_columns(MODEL_COLUMNS)
        alerts = self.query_one("#alerts-table", DataTable)
        for key, label in (
            ("when", "When (UTC)"),
            ("severity", "Severity"),
            ("kind", "Kind"),
            ("message", "Message"),
            ("state", "State"),
        ):
            alerts.add_column(label, key=key)

    # -- reading ---------------------------------------------------------------------------------
    def fetch(self) -> MonitorReport:
        from llmbench.services.monitoring import health as monitor

        return monitor.monitor_report(self.bench.store, self.window, now=self.bench.now())

    def show(self, data: MonitorReport) -> None:
        self.report = data
        self.set_empty(not data.any_calls and not data.alerts)
        self._show_window_bar(data)
        self._show_metrics(data)
        self._show_timeline(data)
        self._show_models(data)
        self._show_distributions(data)
        self._show_production(data)
        self._show_alerts(data)

    def _show_window_bar(self, data: MonitorReport) -> None:
        choices = "  ".join(
            f"[b reverse] {key} {label} [/]" if window == data.window.key else f" {key} {label} "
            for key, window, label in WINDOW_KEYS
        )
        read = (
            f"all {count(data.total)} calls read"
            if data.exact
            else f"{count(data.total)} calls, figures estimated from an even sample of "
            f"{count(data.sampled)}"
        )
        self.query_one("#window-bar", Static).update(
            f"Window {choices}   {read}   until {timestamp(data.until)} UTC"
        )

    def _show_metrics(self, data: MonitorReport) -> None:
        overall = data.overall
        p50, p95, p99 = overall.latency
        values = {
            "#metric-requests": (count(data.total), f"{len(data.models)} models"),
            "#metric-latency": (_pair(p50, p95), f"p99 {millis(p99)}"),
            "#metric-ttft": (_pair(*overall.ttft), "streamed calls"),
            "#metric-errors": (percent(overall.rate(overall.errors)), ""),
            "#metric-limits": (
                f"{percent(overall.rate(overall.timeouts))} · "
                f"{percent(overall.rate(overall.rate_limited))}",
                "",
            ),
            "#metric-cache": (percent(overall.rate(overall.cache_hits)), ""),
            "#metric-cost": (money(data.cost_per_hour), f"{money(overall.cost)} in window"),
        }
        for selector, (value, detail) in values.items():
            metric = self.query_one(selector, Metric)
            metric.value = value
            metric.detail = detail

    def _show_timeline(self, data: MonitorReport) -> None:
        line = data.timeline
        every = f"per {data.window.bucket_minutes} min"
        if data.window.bucket_minutes >= 60:
            every = f"per {data.window.bucket_minutes // 60} h"
        series = {
            "requests": (line.requests, f"Requests {every}, peak {max(line.requests):,.0f}"),
            "p95": (line.p95_ms, f"p95 {every}, worst {millis(max(line.p95_ms))}"),
            "failures": (line.errors, f"Failures {every}, peak {max(line.errors):,.0f}"),
            "cost": (line.cost, f"Cost {every}, peak {money(max(line.cost))}"),
        }
        for spark_id, (values, caption) in series.items():
            self.query_one(f"#caption-{spark_id}", Static).update(caption)
            self.query_one(f"#spark-{spark_id}", Sparkline).data = values

    def _show_models(self, data: MonitorReport) -> None:
        hours = data.window.hours
        rows = [(health.name, model_row(health, hours)) for health in data.models]
        if data.models:
            rows.insert(0, (ALL_ROW, model_row(data.overall, hours)))
        self.query_one("#models-table", FoldingTable).fill(rows)

    def _show_distributions(self, data: MonitorReport) -> None:
        overall = data.overall
        for spark_id, name, histogram, tokens in (
            ("prompt-tokens", "Prompt tokens", data.prompt_histogram, overall.prompt_tokens),
            (
                "completion-tokens",
                "Completion tokens",
                data.completion_histogram,
                overall.completion_tokens,
            ),
        ):
            self.query_one(f"#caption-{spark_id}", Static).update(
                _histogram_caption(name, histogram, *tokens)
            )
            self.query_one(f"#spark-{spark_id}", Sparkline).data = [
                float(n) for n in histogram.counts
            ]
        self.query_one("#caption-quality", Static).update(_quality_caption(data.quality))
        self.query_one("#spark-quality", Sparkline).data = [
            day.pass_rate if day.pass_rate is not None else (day.thumbs_up or 0.0)
            for day in data.quality
        ]

    def _show_production(self, data: MonitorReport) -> None:
        quality = data.production
        for spark_id, caption, values in (
            ("judge", judge_caption(quality), judge_values(quality)),
            ("consistency", consistency_caption(quality), consistency_values(quality)),
        ):
            self.query_one(f"#caption-{spark_id}", Static).update(caption)
            self.query_one(f"#spark-{spark_id}", Sparkline).data = values

    def _show_alerts(self, data: MonitorReport) -> None:
        table = self.query_one("#alerts-table", DataTable)
        kept = highlighted_key(table)
        table.clear()
        opened = sum(alert.open for alert in data.alerts)
        self.query_one("#alerts-title", Static).update(
            f"Alerts: {opened} open of {len(data.alerts)}   "
            "(a acknowledges · c checks for drift · p retention purge · v verify integrity)"
        )
        for alert in data.alerts:
            state = "open" if alert.open else f"acked by {alert.acked_by}"
            table.add_row(
                timestamp(alert.created_at),
                alert.severity,
                alert.kind,
                alert.message,
                state,
                key=str(alert.id),
            )
        restore_cursor(table, kept)
        self._show_alert_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "alerts-table":
            self._show_alert_detail()

    def _highlighted_alert(self) -> AlertRow | None:
        key = highlighted_key(self.query_one("#alerts-table", DataTable))
        alerts = self.report.alerts if self.report else []
        return next((alert for alert in alerts if str(alert.id) == key), None)

    def _show_alert_detail(self) -> None:
        alert = self._highlighted_alert()
        self.query_one("#alert-detail", Static).update(alert_detail(alert) if alert else "")

    def show_integrity(self, text: str) -> None:
        self.query_one("#integrity", Static).update(text)

    # -- keys ------------------------------------------------------------------------------------
    def action_window(self, window: str) -> None:
        if window != self.window:
            self.window = window
            self.reload()

    def action_ack(self) -> None:
        alert = self._highlighted_alert()
        if alert is None:
            self.notify("No alert to acknowledge.", title="Alerts")
            return
        if not alert.open:
            self.notify(f"Alert #{alert.id} is already acknowledged.", title="Alerts")
            return
        store, who = self.bench.store, self.bench.reviewer

        def ack() -> bool:
            from llmbench.services.monitoring.health import ack_alert

            return ack_alert(store, alert.id, who)

        self.act_in_thread(ack, lambda _done: self.reload(), what="Acknowledge alert")

    def action_check(self) -> None:
        store, now = self.bench.store, self.bench.now()

        def check() -> DriftCheck:
            from llmbench.services.monitoring.health import check_drift

            return check_drift(store, now=now)

        self.notify("Looking for drift in latency and quality…", title="Drift check")
        self.act_in_thread(check, self._checked, what="Drift check")

    def _checked(self, result: DriftCheck) -> None:
        new = len(result.new_alert_ids)
        known = f", {result.already_known} raised before" if result.already_known else ""
        self.notify(
            f"{result.series} series checked: {len(result.found)} drifting, "
            f"{new} new alert{'s' if new != 1 else ''}{known}.",
            title="Drift check",
            severity="warning" if new else "information",
        )
        self.reload()
