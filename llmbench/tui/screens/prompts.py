"""F2 Prompts: every prompt with its versions and labels; the highlighted one's production
version, section by section, beside the list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING, count, day, model_label, one_line
from llmbench.tui.screens.base import PaneScreen, highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.store.views import PromptRow, VersionDetail


def _version(number: int | None) -> str:
    return NOTHING if number is None else f"v{number}"


class PromptsScreen(PaneScreen["list[PromptRow]"]):
    PANE_TITLE = "Prompts"
    EMPTY_TEXT = (
        "No prompts yet.\n\n"
        "Run `llmbench demo` to create a demo database with prompts, runs and calls."
    )

    DEFAULT_CSS = """
    PromptsScreen {
        #prompts-table { width: 1fr; height: 1fr; }
        #prompt-detail {
            width: 50;
            border-left: tall $primary 30%;
            padding: 0 1;
        }
    }
    """

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="prompts-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="prompt-detail"):
                yield Static("", id="prompt-detail-text")

    def on_mount(self) -> None:
        table = self.query_one("#prompts-table", DataTable)
        table.add_column("Prompt", key="name")
        table.add_column("Versions", key="versions")
        table.add_column("Prod", key="production")
        table.add_column("Staging", key="staging")
        table.add_column("Latest by", key="author")
        table.add_column("Latest message", key="message")
        table.add_column("Notes", key="notes")

    def fetch(self) -> list[PromptRow]:
        from llmbench.services import panes

        return panes.prompts_overview(self.bench.store)

    def show(self, data: list[PromptRow]) -> None:
        self.set_empty(not data)
        table = self.query_one("#prompts-table", DataTable)
        selected = highlighted_key(table)
        table.clear()
        for row in data:
            table.add_row(
                row.name,
                count(row.versions),
                _version(row.production_version),
                _version(row.staging_version),
                row.latest_author or NOTHING,
                one_line(row.latest_message, 22),
                count(row.notes),
                key=str(row.id),
            )
        restore_cursor(table, selected)
        self._read_detail(highlighted_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._read_detail(event.row_key.value)

    def _read_detail(self, key: str | None) -> None:
        if key is None:
            return
        from llmbench.services import panes

        store, prompt_id = self.bench.store, int(key)
        self.read_in_thread(
            lambda: panes.prompt_detail(store, prompt_id), self._show_detail, group="detail"
        )

    def _show_detail(self, detail: VersionDetail | None) -> None:
        self.query_one("#prompt-detail-text", Static).update(render_detail(detail))


def render_detail(detail: VersionDetail | None) -> Content:
    if detail is None:
        return Content("This prompt has no saved version yet.")
    which = detail.label or "latest"
    parts: list[Content | tuple[str, str] | str] = [
        (detail.prompt_name, "bold"),
        f"  v{detail.version} ({which})\n",
        ("model ", "dim"),
        model_label(detail.model) if detail.model else NOTHING,
        ("   by ", "dim"),
        detail.author or NOTHING,
        ("   ", ""),
        (day(detail.created_at), "dim"),
        "\n",
    ]
    if detail.message:
        parts += [(detail.message, "italic"), "\n"]
    if detail.variables:
        parts += [
            ("variables ", "dim"),
            ", ".join(f"{v.name} ({v.kind})" for v in detail.variables),
            "\n",
        ]
    for name, text in detail.sections.items():
        if text:
            parts += ["\n", (name.upper(), "bold $text-accent"), "\n", text.strip(), "\n"]
    if detail.notes:
        parts += ["\n", ("NOTES", "bold $text-accent"), "\n"]
        for note in detail.notes:
            parts += [(f"{note.kind}: ", "dim"), one_line(note.text, 200), "\n"]
    return Content.assemble(*parts)
