"""F4 Grade: how much is left to grade per rubric, for you and for the others, and a preview
of the next item you have not graded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from llmbench.tui.format import count, model_label
from llmbench.tui.screens.base import PaneScreen, highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.panes import GradingQueue
    from llmbench.store.views import QueueItem


class GradeScreen(PaneScreen["GradingQueue"]):
    PANE_TITLE = "Grade"
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

    def compose_body(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="queue-caption", classes="section-title", markup=False)
            yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=True)
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

        return panes.grading_queue(self.bench.store, self.bench.reviewer)

    def show(self, data: GradingQueue) -> None:
        self.set_empty(not data.rubrics)
        self.query_one("#queue-caption", Static).update(
            f"Grading queue for {data.reviewer}: {count(data.remaining)} items left "
            f"across {len(data.rubrics)} rubric{'s' if len(data.rubrics) != 1 else ''}"
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

    def _read_next(self, key: str | None) -> None:
        if key is None:
            return
        from llmbench.services import panes

        store, reviewer, rubric_id = self.bench.store, self.bench.reviewer, int(key)
        self.read_in_thread(
            lambda: panes.next_to_grade(store, rubric_id, reviewer), self._show_next, group="next"
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
