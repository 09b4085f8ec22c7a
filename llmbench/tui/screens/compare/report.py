"""The migration report: is the candidate (a new prompt version or model) better than the
baseline on the same cases, by how much and how sure, at what cost and latency, and which
cases flipped. Tab moves through the candidates; `b` picks another run as the baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from llmbench.tui.format import NOTHING, millis, money, one_line, percent
from llmbench.tui.screens.dialogs import Field, FormDialog
from llmbench.tui.screens.text_page import TextPageScreen

if TYPE_CHECKING:
    from llmbench.core.evaluation.scoreboard import MigrationReport
    from llmbench.services.compare.report import Comparison
    from llmbench.store.views import RunRow

LISTED_CASES = 12


def _change(report_change: float | None) -> str:
    return NOTHING if report_change is None else f"{report_change * 100:+.0f}%"


def _p_value(report: MigrationReport) -> str:
    return NOTHING if report.mcnemar_p is None else f"{report.mcnemar_p:.3f}"


def render_comparison(comparison: Comparison, index: int, total: int) -> Content:
    report = comparison.report
    delta = NOTHING
    if report.quality_delta is not None:
        delta = f"{report.quality_delta:+.1f} points"
        if report.ci_low is not None and report.ci_high is not None:
            delta += f"  (95% CI {report.ci_low:+.1f} to {report.ci_high:+.1f})"
    rows = [
        ("", "baseline", "candidate", "change"),
        (
            "pass rate",
            percent(report.baseline_pass_rate),
            percent(report.candidate_pass_rate),
            "",
        ),
        (
            "cost per case",
            money(report.baseline_cost_per_case),
            money(report.candidate_cost_per_case),
            _change(report.cost_change),
        ),
        (
            "latency p50",
            millis(report.baseline_latency_p50_ms),
            millis(report.candidate_latency_p50_ms),
            _change(report.latency_change),
        ),
        (
            "latency p95",
            millis(report.baseline_latency_p95_ms),
            millis(report.candidate_latency_p95_ms),
            "",
        ),
    ]
    table = "\n".join(f"  {a:<15}{b:>14}{c:>14}{d:>10}" for a, b, c, d in rows)
    parts: list[Content | tuple[str, str] | str] = [
        (f"Comparison {index + 1} of {total}", "dim"),
        "\n",
        ("baseline  ", "dim"),
        (comparison.baseline, "bold"),
        "\n",
        ("candidate ", "dim"),
        (comparison.candidate, "bold"),
        "\n\n",
        (report.verdict("candidate"), "bold $text-accent"),
        "\n\n",
        f"  quality delta  {delta}\n",
        f"  paired cases   {report.paired_cases}"
        + (f"  ({report.only_baseline} only in the baseline)" if report.only_baseline else "")
        + (f"  ({report.only_candidate} only in the candidate)" if report.only_candidate else "")
        + "\n",
        f"  McNemar p      {_p_value(report)}  (on the cases that flipped)\n",
    ]
    if report.candidate_win_rate is not None:
        parts.append(
            f"  pairwise wins  {percent(report.candidate_win_rate)}"
            f" of {report.pairwise_judged} judged\n"
        )
    parts += ["\n", table, "\n"]
    for title, cases, style in (
        ("Regressions: passed in the baseline, fail now", report.regressions, "$text-error"),
        ("Fixed: failed in the baseline, pass now", report.fixes, "$text-success"),
    ):
        parts += ["\n", (f"{title} ({len(cases)})", f"bold {style}"), "\n"]
        for case_id in cases[:LISTED_CASES]:
            parts.append(f"  • {one_line(comparison.case_title(case_id), 90)}\n")
        if len(cases) > LISTED_CASES:
            parts.append((f"  … and {len(cases) - LISTED_CASES} more\n", "dim"))
        if not cases:
            parts.append(("  none\n", "dim"))
    return Content.assemble(*parts)


class MigrationReportScreen(TextPageScreen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="report_close"),
        Binding("tab", "next", "Next candidate", id="report_next"),
        Binding("b", "pick_baseline", "Baseline run…", id="report_baseline"),
    ]
    DEFAULT_CSS = """
    MigrationReportScreen {
        #report-scroll { height: 1fr; padding: 0 1; }
    }
    """
    SCROLL_ID = "report-scroll"
    TEXT_ID = "report-text"
    FIRST_TEXT = "Comparing…"

    def __init__(self, run_id: int, baseline_run_id: int | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.baseline_run_id = baseline_run_id
        self.found: list[Comparison] = []
        self.index = 0
        self.title = "Migration report"

    def on_mount(self) -> None:
        self._read()
        self.query_one("#report-scroll").focus()

    def _read(self) -> None:
        from llmbench.services.compare.report import comparisons

        store, run_id, baseline = self.bench.store, self.run_id, self.baseline_run_id

        def work() -> None:
            try:
                found = comparisons(store, run_id, baseline)
            except Exception as error:  # a bad pick is told on screen
                self.app.call_from_thread(self._failed, str(error))
                return
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._show, found)

        self.run_worker(work, thread=True, exclusive=True, group="report", name="compare")

    def _failed(self, error: str) -> None:
        self.query_one("#report-text", Static).update(error)
        self.notify(error, title="Cannot compare", severity="error")

    def _show(self, found: list[Comparison]) -> None:
        self.found, self.index = found, 0
        self._show_current()

    def _show_current(self) -> None:
        text = self.query_one("#report-text", Static)
        if not self.found:
            text.update(
                "This run has a single prompt version × model and no baseline run.\n\n"
                "Press b to compare it with another run."
            )
            return
        self.sub_title = f"run {self.run_id}"
        text.update(render_comparison(self.found[self.index], self.index, len(self.found)))

    def action_next(self) -> None:
        if self.found:
            self.index = (self.index + 1) % len(self.found)
            self._show_current()

    def action_pick_baseline(self) -> None:
        from llmbench.services import panes

        store = self.bench.store

        def work() -> None:
            runs = [row for row in panes.runs_overview(store) if row.id != self.run_id]
            self.app.call_from_thread(self._ask_baseline, runs)

        self.run_worker(work, thread=True, group="runs", name="read runs")

    def _ask_baseline(self, runs: list[RunRow]) -> None:
        if not runs:
            self.notify("There is no other run to compare with.", severity="warning")
            return
        labels = {f"{row.id}: {row.name or 'run'}": row.id for row in runs}
        field = Field("run", "Baseline run", choices=list(labels))

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self.baseline_run_id = labels[values["run"]]
                self._read()

        self.app.push_screen(
            FormDialog("Compare with a baseline run", [field], submit="Compare"), chosen
        )

    def action_close(self) -> None:
        self.dismiss(None)
