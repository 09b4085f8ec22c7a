"""F2 Prompts: the library (searchable), the highlighted prompt's version history, and the
highlighted version in full — with the keys to edit, diff, label, roll back and take notes,
set a prompt's guard policy, and import and export prompt files. The first frame shows the
library; the history's table and the version's detail come with the first history."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from llmbench.tui.format import NOTHING, count, day
from llmbench.tui.screens.read_ahead import ReadAheadPane
from llmbench.tui.widgets.virtual_table import Column, TableRow, VirtualTable

if TYPE_CHECKING:
    from textual.content import Content
    from textual.widgets import DataTable, Input

    from llmbench.core.models import PromptVersion
    from llmbench.services.prompts.library import LibraryRow, PromptHistory, VersionView
    from llmbench.tui.widgets.version_table import VersionTable


def _version(number: int | None) -> str:
    return NOTHING if number is None else f"v{number}"


LIBRARY_COLUMNS = (
    Column("name", "Prompt"),
    Column("versions", "Vers", 4, align_right=True),
    Column("production", "Prod", 5),
    Column("updated", "Updated", 10, fold=2),
    Column("notes", "Notes", 5, align_right=True, fold=1),
)


class PromptsScreen(ReadAheadPane["list[LibraryRow]"]):
    PANE_TITLE = "Prompts"
    AUTO_FOCUS = "#prompts-table"
    EMPTY_TEXT = (
        "No prompts yet.\n\n"
        "Press n to write one, or run `llmbench demo` for a demo database with prompts, "
        "runs and calls."
    )
    BINDINGS = [
        Binding("slash", "search", "Search", id="prompts_search"),
        Binding("n", "new_prompt", "New", id="prompt_new"),
        Binding("e", "edit", "Edit", id="prompt_edit"),
        Binding("d", "diff", "Diff", id="prompt_diff"),
        # Shown in F1 help, kept out of the footer so the footer fits beside the pane keys.
        Binding("m", "mark", "Mark for diff", show=False, id="prompt_mark"),
        Binding("p", "promote", "To production", id="prompt_promote"),
        Binding("l", "label", "Label", show=False, id="prompt_label"),
        Binding("o", "note", "Note", show=False, id="prompt_note"),
        Binding("G", "guard", "Guard policy", show=False, id="prompt_guard"),
        Binding("I", "import_files", "Import files", show=False, id="prompts_import"),
        Binding("X", "export_files", "Export files", show=False, id="prompts_export"),
    ]
    PALETTE: ClassVar[dict[str, str]] = {
        "prompt_guard": "Show and change the highlighted prompt's guard policy",
        "prompts_import": "Import prompt files from a folder or file (all or nothing)",
        "prompts_export": "Export the highlighted prompt, or all, as YAML files",
    }

    DEFAULT_CSS = """
    PromptsScreen {
        #library { width: 2fr; }
        #prompt-search { margin: 0 0 0 0; }
        #prompts-table { height: 1fr; }
        #prompt-side { width: 3fr; border-left: tall $primary 30%; }
        #versions-table { height: 11; }
        #version-detail { height: 1fr; padding: 0 1; border-top: tall $primary 30%; }
        #prompt-empty-search { display: none; color: $text-muted; padding: 1 2; }
        &.-no-match #prompt-empty-search { display: block; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.library_rows: list[LibraryRow] = []
        self.prompt_history: PromptHistory | None = None
        self.shown: VersionView | None = None
        self.marked: tuple[int, int] | None = None
        """(version id, number) of the version `m` marked as the other side of a diff."""
        self._select_version: int | None = None
        self._select_prompt: int | None = None
        self._version_requested: str | None = None
        self.shown_text: Content | None = None

    # -- layout and reading ------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="library"):  # the search box, when opened, goes above the table
                yield VirtualTable(LIBRARY_COLUMNS, id="prompts-table")
            yield Vertical(id="prompt-side")  # its panels come with the first history

    def fetch(self) -> list[LibraryRow]:
        from llmbench.services.panes import prompt_library  # light: the start waits for it

        return prompt_library(self.bench.store)

    def show(self, data: list[LibraryRow]) -> None:
        self.library_rows = data
        self.set_empty(not data)
        self._show_library(fresh=True)

    def _show_library(self, *, fresh: bool = False) -> None:
        """Filter the library read last by the search box, in memory, and show it."""
        from llmbench.services.panes import search

        rows = search(self.library_rows, self.query_text)
        self.set_class(not rows and bool(self.library_rows), "-no-match")
        table = self.query_one("#prompts-table", VirtualTable)
        table.set_rows(
            [
                TableRow(
                    str(row.id),
                    (
                        row.name,
                        count(row.versions),
                        _version(row.production),
                        day(row.updated_at),
                        count(row.notes) if row.notes else "",
                    ),
                )
                for row in rows
            ],
            keep=None if self._select_prompt is None else str(self._select_prompt),
        )
        self._select_prompt = None
        if self.loaded:
            self._read_history(table.cursor_key, fresh=fresh)
        else:  # the library is painted first: the history's modules take a while to load.
            self.refresh()  # A repaint due now is drawn before callbacks (this one, the base's)
            self.call_after_refresh(lambda: self._read_history(table.cursor_key))

    def select_version(self, prompt_id: int, version_id: int) -> None:
        """Show this prompt with this version under the cursor (other panes open versions
        here, e.g. the audit log's call detail); a search that would hide it is cleared."""
        self._select_prompt, self._select_version = prompt_id, version_id
        self.query_text = ""
        for search in self.query("#prompt-search"):
            search.remove()
        self.reload()

    @property
    def prompt_id(self) -> int | None:
        key = self.query_one("#prompts-table", VirtualTable).cursor_key
        return None if key is None else int(key)

    @property
    def version_id(self) -> int | None:
        tables = self.query("#versions-table")
        key = cast("VersionTable", tables.first()).cursor_key if tables else None
        return None if key is None else int(key)

    def _versions(self) -> VersionTable:
        from llmbench.tui.widgets.version_table import versions_in

        return versions_in(self.query_one("#prompt-side"))

    def _read_history(self, key: str | None, *, fresh: bool = True) -> None:
        """Read the prompt's history and its newest versions in full; with `fresh` False, only
        when another prompt is highlighted than the one shown (typing a search moves the
        cursor often, mostly onto the same prompt)."""
        if key is None:
            self._show_history(None)
            return
        shown = self.prompt_history.prompt.id if self.prompt_history else None
        if not fresh and shown == int(key):
            return
        store, prompt_id = self.bench.store, int(key)

        def read() -> PromptHistory | None:  # the modules load here, in the worker
            if get_current_worker().is_cancelled:  # left before it began: no import to hold
                return None  # the interpreter (a cancelled read's result is never shown)
            # Not services.prompts.library: it loads the editor's templates and token counts.
            from llmbench.services.prompts import history as prompts

            found = prompts.history(store, prompt_id)
            # The widgets that show it load here, off the main thread, unless the pane was left
            # meanwhile: then the next pane's build has the interpreter to itself.
            if not get_current_worker().is_cancelled:
                from llmbench.tui.widgets import version_detail, version_table  # noqa: F401
            return found

        self.read_in_thread(read, self._show_history, group="history")

    def _show_history(self, history: PromptHistory | None) -> None:
        if history is not None and self.prompt_id != history.prompt.id:
            return  # the cursor moved on while this was read
        same_prompt = (
            self.prompt_history is not None
            and history is not None
            and self.prompt_history.prompt.id == history.prompt.id
        )
        self.prompt_history = history
        table = self._versions()
        selected = table.cursor_key if same_prompt else None
        if self._select_version is not None:
            selected, self._select_version = str(self._select_version), None
        if history is None:
            table.clear()
            self._show_version(None)
            return
        if not same_prompt and self.marked is not None:
            self.marked = None
        table.show_history(history, self.marked[0] if self.marked else None, selected)
        self._read_version(table.cursor_key)

    def _read_version(self, key: str | None, *, fresh: bool = False) -> None:
        """Show a version's detail: from the history's prefetched views when it is there, else
        read it, unless that read is already under way (`fresh` forces a read)."""
        if key is None:
            self._version_requested = None
            self._show_version(None)
            return
        prefetched = self.prompt_history.views if self.prompt_history else {}
        if int(key) in prefetched and not fresh:
            self._version_requested = None
            self._show_version(prefetched[int(key)])
            return
        if key == self._version_requested and not fresh and self.reading("version"):
            return
        self._version_requested = key
        from llmbench.services.prompts import history as prompts

        store, version_id = self.bench.store, int(key)
        self.read_in_thread(
            lambda: prompts.version_view(store, version_id), self._show_version, group="version"
        )

    def _show_version(self, view: VersionView | None) -> None:
        if view is not None and self.version_id != view.version.id:
            return
        self.shown = view
        from llmbench.tui.widgets.version_detail import render_version

        text = render_version(view, self.prompt_history)
        if self.shown_text is None or not self.shown_text.is_same(text):  # else a layout anew
            self.shown_text = text
            self.query_one("#version-detail-text", Static).update(text)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._read_history(event.key)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        self._versions().focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Refilling the table highlights rows on the way to the restored one: skip those.
        if event.row_key.value == self._versions().cursor_key:
            self._read_version(event.row_key.value)

    # -- search ------------------------------------------------------------------------------

    def action_search(self) -> None:
        from llmbench.tui.screens.prompts.library_search import open_search

        open_search(self)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "prompt-search":
            self.query_text = event.value
            self._show_library()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "prompt-search":
            self.query_one("#prompts-table", VirtualTable).focus()

    def key_escape(self) -> None:
        from llmbench.tui.screens.prompts.library_search import escape_search

        escape_search(self)

    # -- acting ------------------------------------------------------------------------------

    def _reviewer(self) -> str:
        return self.bench.reviewer or "me"

    def action_new_prompt(self) -> None:
        from llmbench.tui.screens.prompts.forms import new_prompt_dialog

        self.app.push_screen(new_prompt_dialog(), self._create)

    def _create(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.prompts import library as prompts

        store = self.bench.store
        tags = [tag.strip() for tag in values["tags"].split(",")]

        def act() -> tuple[int, str]:
            name, about = values["name"], values["description"]
            return prompts.create_prompt(store, name, description=about, tags=tags), name.strip()

        self.act_in_thread(act, self._created, what="New prompt")

    def _created(self, created: tuple[int, str]) -> None:
        from llmbench.tui.screens.prompts.forms import NEW_PROMPT_DRAFT

        self.bench.drafts.discard(NEW_PROMPT_DRAFT)  # the prompt exists: its fields are used
        prompt_id, name = created
        self._select_prompt = prompt_id
        self.notify(f"{name} created: write its first version.", title="New prompt")
        self._open_editor(prompt_id, name, None)
        self.reload()

    def action_edit(self) -> None:
        if self.prompt_history is None:
            self.notify("Highlight a prompt first.", severity="warning")
            return
        prompt = self.prompt_history.prompt
        from llmbench.services.drafts import editor_key
        from llmbench.services.prompts import library as prompts

        store, version_id, keeper = self.bench.store, self.version_id, self.bench.drafts

        def read() -> tuple[PromptVersion | None, dict[str, str] | None]:
            # A draft kept from before (quit, crash) comes back on the version it started from.
            kept = keeper.read(editor_key(prompt.id))
            texts = kept.body.get("texts") if kept is not None else None
            if isinstance(texts, dict):
                base_id = kept.body.get("base_version_id") if kept is not None else None
                base = prompts.get_version(store, base_id) if isinstance(base_id, int) else None
                return base, {k: v for k, v in texts.items() if isinstance(v, str)}
            return (prompts.get_version(store, version_id) if version_id else None), None

        self.read_in_thread(
            read,
            lambda found: self._open_editor(prompt.id, prompt.name, found[0], kept=found[1]),
            group="editor",
        )

    def _open_editor(
        self,
        prompt_id: int,
        name: str,
        base: PromptVersion | None,
        *,
        kept: dict[str, str] | None = None,
    ) -> None:
        from llmbench.tui.screens.prompts.editor import EditorScreen

        self.app.push_screen(EditorScreen(prompt_id, name, base, kept=kept), self._after_edit)

    def _after_edit(self, saved: PromptVersion | None) -> None:
        if saved is not None:
            self._select_prompt = saved.prompt_id
            self._select_version = saved.id
            self.notify(f"Saved as v{saved.version}.", title="Saved")
        self.reload()

    def action_mark(self) -> None:
        if self.shown is None:
            return
        version = self.shown.version
        if self.marked and self.marked[0] == version.id:
            self.marked = None
        else:
            self.marked = (version.id, version.version)
            self.notify(f"v{version.version} marked: highlight another version and press d.")
        self._read_history(str(version.prompt_id))

    def action_diff(self) -> None:
        if self.shown is None or self.prompt_history is None:
            self.notify("Highlight a version first.", severity="warning")
            return
        new = self.shown.version
        if self.marked and self.marked[0] != new.id:
            other = self.marked[0]
        elif new.parent_id is not None:
            other = new.parent_id
        else:
            earlier = [row for row in self.prompt_history.versions if row.version < new.version]
            if not earlier:
                self.notify("v1 has nothing before it: mark another version with m.")
                return
            other = earlier[0].id
        from llmbench.services.prompts import library as prompts

        store, name = self.bench.store, self.prompt_history.prompt.name

        def read() -> tuple[PromptVersion | None, PromptVersion | None]:
            return prompts.get_version(store, other), prompts.get_version(store, new.id)

        self.read_in_thread(read, lambda pair: self._open_diff(name, *pair), group="diff")

    def _open_diff(self, name: str, one: PromptVersion | None, two: PromptVersion | None) -> None:
        if one is None or two is None:
            return
        from llmbench.tui.screens.prompts.diff import DiffScreen

        old, new = sorted((one, two), key=lambda version: version.version)
        self.app.push_screen(DiffScreen(name, old, new))

    def action_promote(self) -> None:
        from llmbench.tui.widgets.version_table import PRODUCTION

        self._confirm_move(PRODUCTION)

    def action_label(self) -> None:
        from llmbench.tui.screens.prompts.forms import label_dialog

        if self.shown is None:
            self.notify("Highlight a version first.", severity="warning")
            return
        self.app.push_screen(
            label_dialog(self.shown.version.version),
            lambda values: self._confirm_move(values["label"].strip()) if values else None,
        )

    def _confirm_move(self, label: str) -> None:
        from llmbench.tui.screens.prompts.forms import move_dialog

        if self.shown is None or self.prompt_history is None:
            self.notify("Highlight a version first.", severity="warning")
            return
        target = self.shown.version
        current = next(
            (row.version for row in self.prompt_history.versions if label in row.labels), None
        )
        if current == target.version:
            self.notify(f"{label} is already on v{target.version}.")
            return
        self.app.push_screen(
            move_dialog(self.prompt_history.prompt.name, label, current, target.version),
            lambda yes: self._move(label, target) if yes else None,
        )

    def _move(self, label: str, target: PromptVersion) -> None:
        from llmbench.services.prompts import library as prompts

        store, by = self.bench.store, self._reviewer()
        self.act_in_thread(
            lambda: prompts.move_label(store, target.prompt_id, label, target.id, moved_by=by),
            lambda move: self._moved(label, target),
            what=f"Move {label}",
        )

    def _moved(self, label: str, target: PromptVersion) -> None:
        self.notify(f"{label} → v{target.version}", title="Label moved")
        self._select_version = target.id
        self.reload()

    def action_note(self) -> None:
        from llmbench.tui.screens.prompts.forms import note_dialog

        if self.prompt_history is None:
            self.notify("Highlight a prompt first.", severity="warning")
            return
        version = self.shown.version.version if self.shown is not None else None
        self.app.push_screen(note_dialog(self.prompt_history.prompt.name, version), self._add_note)

    def _add_note(self, values: dict[str, str] | None) -> None:
        if values is None or self.prompt_history is None:
            return
        from llmbench.services.prompts import library as prompts
        from llmbench.tui.screens.prompts.forms import WHOLE_PROMPT

        store, by, prompt_id = self.bench.store, self._reviewer(), self.prompt_history.prompt.id
        version_id = (
            self.shown.version.id if self.shown and values["about"] != WHOLE_PROMPT else None
        )
        self.act_in_thread(
            lambda: prompts.add_note(
                store, prompt_id, values["kind"], values["text"], version_id=version_id, author=by
            ),
            lambda _: self._noted(),
            what="Note",
        )

    def _noted(self) -> None:
        self.notify("Note saved.")
        self.reload()

    # -- guard policy and prompt files (their dialogs live beside this module) ----------------

    def action_guard(self) -> None:
        from llmbench.tui.screens.prompts.guard_dialog import edit_guard_policy

        edit_guard_policy(self)

    def action_import_files(self) -> None:
        from llmbench.tui.screens.prompts.prompt_files import import_prompt_files

        import_prompt_files(self)

    def action_export_files(self) -> None:
        from llmbench.tui.screens.prompts.prompt_files import export_prompt_files

        export_prompt_files(self)
