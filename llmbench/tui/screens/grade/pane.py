"""F4 Grade: how much is left to grade per rubric, for you and for the others, and a preview
of the next item you have not graded. From here a queue opens for grading by keystroke (normal,
blind or pairwise), or the rubric's agreement between reviewers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from llmbench.tui.format import count, model_label
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.grade.launch import start_session
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.grading.queues import Mode, QueueSpec
    from llmbench.services.panes import GradingQueue
    from llmbench.store.views import QueueItem


class GradeScreen(PaneScreen["GradingQueue"]):
    PANE_TITLE = "Grade"
    BINDINGS = [
        Binding("g", "grade('normal')", "Grade", id="grade_start"),
        Binding("b", "grade('blind')", "Blind", id="grade_start_blind"),
        Binding("p", "grade('pairwise')", "Pairwise", id="grade_start_pairwise"),
        Binding("a", "agreement", "Agreement", id="grade_agreement"),
        Binding("d", "disagreements", "Disagreements", id="grade_disagreements"),
        Binding("o", "queue_options", "Queue options", id="grade_queue_options"),
        Binding("c", "new_rubric", "New rubric", id="grade_new_rubric"),
    ]
    EMPTY_TEXT = (
        "No rubrics yet.\n\n"
        "Run `llmbench demo` for a rubric with a run half graded by two reviewers."
    )

    DEFAULT_CSS = """
    GradeScreen {
        #queue-table { height: auto; max-height: 12; }
        #next-item {
            height: 1fr;
            border-top: tall $primary 30%;
            padding: 0 1;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.spec: QueueSpec | None = None
        """The sampling strategies the next queue is built with (`o` sets them); None is the
        default: urgent items first, only what you have not graded."""

    def compose_body(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="queue-caption", classes="section-title", markup=False)
            yield FittedTable(id="queue-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="next-item"):
                yield Static("", id="next-item-text")

    def on_mount(self) -> None:
        table = self.query_one("#queue-table", DataTable)
        for label, key in (
            ("Rubric", "rubric"),
            ("Items", "items"),
            ("Graded by me", "mine"),
            ("By others", "others"),
            ("Remaining for me", "remaining"),
        ):
            table.add_column(label, key=key)

    def fetch(self) -> GradingQueue:
        from llmbench.services import panes

        return panes.grading_queue(self.bench.store, self.bench.reviewer, self.spec)

    def show(self, data: GradingQueue) -> None:
        self.set_empty(not data.rubrics)
        self.query_one("#queue-caption", Static).update(
            f"Grading queue for {data.reviewer}: {count(data.remaining)} items left "
            f"across {len(data.rubrics)} rubric{'s' if len(data.rubrics) != 1 else ''}"
            f"   ·   queue: {self.spec.describe() if self.spec else 'urgent first, only ungraded'}"
        )
        table = self.query_one("#queue-table", DataTable)
        selected = highlighted_key(table)
        table.clear()
        for row in data.rubrics:
            table.add_row(
                row.rubric,
                count(row.items),
                count(row.graded_by_me),
                count(row.graded_by_others),
                count(row.remaining),
                key=str(row.rubric_id),
            )
        restore_cursor(table, selected)
        self._read_next(highlighted_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._read_next(event.row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_grade("normal")

    def _rubric(self) -> tuple[int, str] | None:
        table = self.query_one("#queue-table", DataTable)
        key = highlighted_key(table)
        if key is None:
            self.notify("No rubric to grade against yet.", severity="warning")
            return None
        return int(key), str(table.get_row(key)[0])

    def action_grade(self, mode: Mode) -> None:
        chosen = self._rubric()
        if chosen is not None:
            start_session(self, chosen[0], mode, spec=self.spec)

    def action_disagreements(self) -> None:
        chosen = self._rubric()
        if chosen is not None:
            start_session(self, chosen[0], "normal", disagreements=True)

    def action_queue_options(self) -> None:
        from dataclasses import replace

        from llmbench.services.grading.queues import QueueSpec
        from llmbench.tui.screens.dialogs import Field, FormDialog

        spec = self.spec or QueueSpec()
        urgent = spec.failed_first or spec.flagged_first or spec.disagreements_first

        def check(values: dict[str, str]) -> str | None:
            try:
                share = float(values["production"] or 0)
            except ValueError:
                return "The production share is a number of percent, 0 to 100."
            return None if 0 <= share <= 100 else "The production share is 0 to 100 percent."

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            first = values["order"] == "urgent first"
            self.spec = replace(
                spec,
                failed_first=first,
                flagged_first=first,
                disagreements_first=first,
                production_share=float(values["production"] or 0) / 100,
                stratify=values["stratify"] == "yes",
                only_ungraded=values["ungraded"] == "only ungraded",
            )
            self.reload()

        fields = [
            Field("order", "Order", "urgent first" if urgent else "as run",
                  choices=("urgent first", "as run")),
            Field("production", "Random share of production calls (%)",
                  f"{spec.production_share * 100:g}"),
            Field("stratify", "Stratify by model × version", "yes" if spec.stratify else "no",
                  choices=("no", "yes")),
            Field("ungraded", "Items", "only ungraded" if spec.only_ungraded else "all",
                  choices=("only ungraded", "all")),
        ]  # fmt: skip
        self.app.push_screen(
            FormDialog("Queue options", fields, submit="Use", validate=check), done
        )

    def action_new_rubric(self) -> None:
        from llmbench.tui.screens.dialogs import Field, FormDialog

        store = self.bench.store

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            from llmbench.services.grading.rubrics import create_rubric

            self.act_in_thread(
                lambda: create_rubric(
                    store, values["name"].strip(), values["description"], values["dimensions"]
                ),
                lambda _rubric_id: self.reload(),
                what="New rubric",
            )

        fields = [
            Field("name", "Name", placeholder="helpfulness"),
            Field("description", "Description"),
            Field("dimensions", "Dimensions",
                  placeholder="relevance 1-5; correctness 1-5; safe pass-fail; tone rude|ok|warm"),
        ]  # fmt: skip
        self.app.push_screen(FormDialog("New rubric", fields, submit="Create"), done)

    def action_agreement(self) -> None:
        from llmbench.tui.screens.grade.agreement import AgreementScreen

        chosen = self._rubric()
        if chosen is not None:
            self.app.push_screen(AgreementScreen(*chosen))

    def _read_next(self, key: str | None) -> None:
        if key is None:
            return
        from llmbench.services import panes

        store, reviewer, rubric_id, spec = (
            self.bench.store,
            self.bench.reviewer,
            int(key),
            self.spec,
        )
        self.read_in_thread(
            lambda: panes.next_to_grade(store, rubric_id, reviewer, spec),
            self._show_next,
            group="next",
        )

    def _show_next(self, item: QueueItem | None) -> None:
        self.query_one("#next-item-text", Static).update(render_item(item))


def render_item(item: QueueItem | None) -> Content:
    if item is None:
        return Content("Nothing left for you to grade against this rubric.")
    parts: list[Content | tuple[str, str] | str] = [
        ("Next for you  ", "bold"),
        (f"{item.source} · {item.prompt or 'no prompt'} · {model_label(item.model)}", "dim"),
        "\n\n",
        ("INPUT", "bold $text-accent"),
        "\n",
    ]
    for name, value in item.inputs.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts += [(f"{name}: ", "dim"), text, "\n"]
    parts += ["\n", ("OUTPUT", "bold $text-accent"), "\n", item.output, "\n"]
    if item.expected:
        parts += ["\n", ("EXPECTED", "bold $text-accent"), "\n", item.expected, "\n"]
    return Content.assemble(*parts)
