"""How far reviewers agree on a rubric, per dimension: percent agreement, Krippendorff's alpha
(nominal, and ordinal for ordered scales) and Cohen's kappa per pair of reviewers (quadratic
weights on ordered scales); the judge against the humans; the items that pulled agreement
down, worst first. `d` grades those items as a queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from llmbench.tui.screens.grade.launch import start_session
from llmbench.tui.screens.text_page import TextPageScreen

if TYPE_CHECKING:
    from llmbench.services.grading.agreement import AgreementReport, DimensionAgreement

Part = Content | tuple[str, str] | str
SHOWN_DISAGREEMENTS = 12


def _figure(value: float | None, *, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if percent else f"{value:.3f}"


class AgreementScreen(TextPageScreen[None]):
    BINDINGS = [
        Binding("d", "disagreements", "Grade disagreements", id="agreement_disagreements"),
        Binding("escape", "leave", "Back", id="agreement_back"),
    ]
    DEFAULT_CSS = """
    AgreementScreen { #agreement-scroll { padding: 0 1; } }
    """
    SCROLL_ID = "agreement-scroll"
    TEXT_ID = "agreement-text"
    FIRST_TEXT = Content("Reading grades…")

    def __init__(self, rubric_id: int, rubric_name: str) -> None:
        super().__init__()
        self.rubric_id = rubric_id
        self.title = f"Agreement · {rubric_name}"
        self.report: AgreementReport | None = None

    def on_mount(self) -> None:
        store, rubric_id = self.bench.store, self.rubric_id

        def read() -> None:
            from llmbench.services.grading.agreement import agreement_report

            try:
                report = agreement_report(store, rubric_id)
            except Exception as error:  # shown, never fatal
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
            self.app.call_from_thread(self.show, report)

        self.run_worker(read, thread=True, group="agreement", name="read agreement")

    def show(self, report: AgreementReport) -> None:
        self.report = report
        self.query_one("#agreement-text", Static).update(render_report(report))

    def action_disagreements(self) -> None:
        start_session(self, self.rubric_id, "normal", disagreements=True)

    def action_leave(self) -> None:
        self.dismiss(None)


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False))


def render_report(report: AgreementReport) -> Content:
    reviewers = ", ".join(report.reviewers) or "nobody yet"
    parts: list[Part] = [
        (f"{len(report.reviewers)} reviewers: ", "bold"), reviewers, "\n\n",
    ]  # fmt: skip
    widths = [14, 8, 9, 10, 10, 40]
    header = ["dimension", "items", "% agree", "α nominal", "α ordinal", "Cohen's κ per pair"]
    parts += [(_row(header, widths), "bold $text-accent"), "\n"]
    rows: list[DimensionAgreement] = list(report.dimensions)
    if report.verdict is not None:
        rows.append(report.verdict)
    for dimension in rows:
        kappas = "; ".join(
            f"{k.first}–{k.second} {_figure(k.kappa)} (n={k.items})" for k in dimension.kappas
        )
        cells = [
            dimension.dimension,
            str(dimension.items),
            _figure(dimension.percent, percent=True),
            _figure(dimension.alpha_nominal),
            _figure(dimension.alpha_ordinal) if dimension.ordinal else "n/a",
            kappas or "–",
        ]
        parts += [_row(cells, widths), "\n"]
    parts += [
        "\n",
        ("κ is quadratic-weighted on ordered scales. α ≥ 0.800 is reliable; "
         "0.667–0.800 allows tentative conclusions (Krippendorff).", "dim"),
        "\n\n",
    ]  # fmt: skip
    if report.judge_items:
        parts += [
            ("Judge vs humans  ", "bold"),
            f"{_figure(report.judge_agreement, percent=True)} of {report.judge_items} items "
            "match the reviewers' majority verdict\n\n",
        ]
    else:
        parts += [("Judge vs humans  ", "bold"), ("no judge verdicts on graded items\n\n", "dim")]
    parts += [
        ("Items that pulled agreement down", "bold $text-accent"),
        f"  ({len(report.disagreements)}; d grades them as a queue)\n",
    ]
    for key, amount in report.disagreements[:SHOWN_DISAGREEMENTS]:
        name = report.item_names.get(key, key.replace(":", " #"))
        parts += ["  ", (f"{amount:.2f}", "$warning"), f"  {name}", "\n"]
    return Content.assemble(*parts)
