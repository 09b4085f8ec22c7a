"""F6 Audit: every call in the audit log, newest first, however many there are.

The log is a CallLog that reads only the window on screen (keyset pages in worker threads).
The query bar above it filters as you type; what it cannot read is said under it, and the last
good filter stays applied. Enter opens a call in full; `h` shows its whole conversation or
trace.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from llmbench.core.audit.query import AuditQuery, QueryError, parse, parse_moment
from llmbench.tui.format import count, timestamp
from llmbench.tui.screens.base import ActionFailed, PaneScreen
from llmbench.tui.widgets.call_log import DEFAULT_COLUMNS, CallLog, Direction

if TYPE_CHECKING:
    from collections.abc import Callable

    from llmbench.store.audit.browser import CallKey, Filter, Page
    from llmbench.store.db import Store
    from llmbench.tui.screens.audit.call_detail import OpenVersion

TYPING_PAUSE_S = 0.25
QUERY_HINT = (
    "model:gpt-4o status:error feature:… since:7d until:2025-05-01 cost>0.01 latency>2s "
    'version:name@3 run:12 user:… flagged "text"'
)


class FilteredCalls:
    """The calls one query selects, read by the log's workers (each on its own connection)."""

    def __init__(self, store: Store, query: AuditQuery, now: datetime) -> None:
        self.store = store
        self.query = query
        self.now = now
        self._filter: Filter | None = None
        self._lock = threading.Lock()

    def filter(self) -> Filter:
        from llmbench.services.audit import browser as audit_log

        with self._lock:
            if self._filter is None:
                self._filter = audit_log.compile_query(self.store, self.query, self.now)
            return self._filter

    def read(self, after: CallKey | None, direction: Direction, limit: int) -> Page:
        from llmbench.services.audit import browser as audit_log

        return audit_log.read_page(
            self.store, self.filter(), after=after, direction=direction, limit=limit
        )

    def seek(self, moment: str, limit: int) -> Page:
        from llmbench.services.audit import browser as audit_log

        return audit_log.read_seek(self.store, self.filter(), moment, limit)

    def count(self) -> tuple[int, bool]:
        from llmbench.services.audit import browser as audit_log

        return audit_log.read_count(self.store, self.filter())


class AuditScreen(PaneScreen[bool]):
    PANE_TITLE = "Audit"
    EMPTY_TEXT = (
        "The audit log is empty.\n\n"
        "Every call made through llmbench lands here. Run `llmbench demo` to see example calls."
    )
    AUTO_FOCUS = "#call-log"
    PALETTE: ClassVar[dict[str, str]] = {
        "audit_export": "Write the filtered calls to a JSONL or CSV file",
        "audit_import": "Import another tool's calls (JSONL, usage CSV, llm's logs.db) or a "
        "promptfoo config, with a progress bar",
        "audit_thread": "The whole conversation or trace of the selected call, step by step",
    }
    BINDINGS = [
        Binding("slash", "focus_query", "Filter", id="audit_filter"),
        Binding("t", "jump", "Jump to date", id="audit_jump"),
        Binding("c", "columns", "Columns", id="audit_columns"),
        Binding("x", "export", "Export", id="audit_export"),
        Binding("i", "import", "Import", id="audit_import"),
        Binding("h", "thread", "Thread", id="audit_thread"),
    ]
    DEFAULT_CSS = """
    AuditScreen {
        #audit-query { margin: 0; }
        #query-error { color: $text-error; height: auto; padding: 0 1; display: none; }
        &.-query-error #query-error { display: block; }
        #audit-status { width: 1fr; height: 1; padding: 0 1; color: $text-muted; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.applied = AuditQuery()
        self.columns = list(DEFAULT_COLUMNS)
        """The columns shown; kept for the whole session (this screen lives as long as the app)."""
        self.matches: tuple[int, bool] | None = None
        self.source: FilteredCalls | None = None
        self._counting: FilteredCalls | None = None
        """The list whose count has been asked for."""
        self._log: CallLog | None = None
        self._typing: Timer | None = None
        self._restart = False
        self.exporting: Worker[None] | None = None
        """The export running in a worker, if any; escape cancels it."""
        self.exported: tuple[int, int | None] = (0, None)
        """Calls written by the running export so far, and how many it will write if known."""

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=f"/ filter: {QUERY_HINT}", id="audit-query")
        yield Static("", id="query-error", markup=False)
        self._log = CallLog(reads=self._log_reads, columns=self.columns, id="call-log")
        if self.source is None:
            # The first page is read from now on, while the pane is mounted (10-30 ms on a first
            # visit), beside `fetch` (is the log empty?), not after it.
            self._start_list(self.applied)
        yield self._log
        yield Static("", id="audit-status", markup=False)

    @property
    def log_view(self) -> CallLog:
        if self._log is None:
            raise LookupError("the audit pane is not composed yet")
        return self._log

    @property
    def ready_to_show(self) -> bool:
        return super().ready_to_show and self._log is not None and self._log.loaded

    # -- reading -----------------------------------------------------------------------------

    def _log_reads(
        self,
        read: Callable[[], Page],
        apply: Callable[[Page], None],
        group: str,
        failed: Callable[[str], None],
    ) -> None:
        """The log's page reads are this pane's: stopped with its other reads as it is left
        (read again when shown: `read_again`), and waited for by the store's close."""

        def applied(page: Page) -> None:
            apply(page)
            self._log_read()

        self.read_in_thread(read, applied, group=group, failed=failed)

    def _log_read(self) -> None:
        """A page arrived: the rows may be what the pane was waiting for to be shown, and the
        first rows of a list start its count."""
        self.tell_if_ready()
        source = self.source
        if (
            source is not None
            and self.log_view.loaded
            and self.matches is None
            and self._counting is not source
            and not self.reading("count")
        ):
            self._counting = source
            # After the frame that shows the rows: the count of a large log holds a core (and,
            # between its statements, the interpreter) while that frame is drawn.
            self.call_after_refresh(self._count, source)

    def _count(self, source: FilteredCalls) -> None:
        if source is not self.source or self.matches is not None:
            return
        if not self.is_current:  # left meanwhile: counted when shown again (`read_again`)
            self._stopped.add("count")
            return
        self.read_in_thread(source.count, lambda found: self._counted(source, found), group="count")

    def fetch(self) -> bool:
        from llmbench.services.audit import browser as audit_log

        # Whether there is any call: the total is counted once the first page is in
        # (`_log_read`), so the first screen does not wait for a count of every call.
        return audit_log.has_calls(self.bench.store)

    def on_mount(self) -> None:
        # The first page is being read (compose_body); the line under it says so.
        # (PaneScreen.on_mount runs too: Textual calls each class's handler.)
        self._update_status()

    def show(self, data: bool) -> None:
        self.set_empty(not data)
        if self.source is None or self._restart:
            self._restart = False
            self._start(self.applied)

    def action_reload(self) -> None:
        self._restart = True
        self.reload()

    def _start(self, query: AuditQuery) -> None:
        self._start_list(query)
        self._update_status()

    def _start_list(self, query: AuditQuery) -> None:
        """Show the calls `query` selects: the log reads its first page (widgets may not be
        mounted yet)."""
        self.applied = query
        self.source = FilteredCalls(self.bench.store, query, self.bench.now())
        note = "No call matches the filter." if not query.is_empty else "No calls yet."
        self.log_view.set_source(self.source, empty_note=note)
        self.matches = None
        self._counting = None
        # The count waits for the list's first rows (`_log_read`): the first paint of the pane
        # never waits on a query over the whole log.

    def read_again(self, groups: set[str]) -> None:
        # What was stopped as the pane was left: the log's pages, and the count (counted again
        # here when the rows were in; else it waits for them).
        prefix = "call-log-"
        pages = {group.removeprefix(prefix) for group in groups if group.startswith(prefix)}
        if pages:
            self.log_view.read_again(pages)
        source = self.source
        if "count" in groups and source is not None and self.log_view.loaded:
            self._count(source)
        elif "count" in groups:
            self._counting = None

    def _counted(self, source: FilteredCalls, found: tuple[int, bool]) -> None:
        if source is self.source:
            self.matches = found
            self._update_status()

    def _update_status(self) -> None:
        log = self.log_view
        if self.matches is None:
            total = "counting…"
        else:
            number, exact = self.matches
            total = f"{count(number)}{'' if exact else '+'} call{'s' if number != 1 else ''}"
        parts = [total if self.applied.is_empty else f"{total} match"]
        current = log.current
        if current is not None:
            row = log.row_number
            if row is None and log.at_bottom and self.matches is not None and self.matches[1]:
                # Came from the end: count back from the exact total.
                row = self.matches[0] - (len(log.rows) - 1 - log.cursor)
            parts.append(f"row {count(row)}" if row is not None else "row ?")
            parts.append(f"#{current.id} at {timestamp(current.ts)}")
        parts.append("newest first")
        if self.exporting is not None:
            done, of = self.exported
            written = f"{count(done)} of {count(of)}" if of else count(done)
            parts.insert(0, f"exporting {written} (esc cancels)")
        # One line whatever it says: no layout of the screen (which would redraw all of it).
        self.query_one("#audit-status", Static).update("  ·  ".join(parts), layout=False)

    def on_call_log_highlighted(self, event: CallLog.Highlighted) -> None:
        self._update_status()

    # -- the query bar -----------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        """Filter by `text` as if it had been typed into the bar: other panes drill down here
        (Costs opens the calls behind a row). Before the first read, that read starts filtered."""
        self.query_text = text
        if self.source is None:
            with suppress(QueryError):
                self.applied = parse(text)
            self.call_after_refresh(self._show_query_text)
            return
        self._show_query_text()
        self._apply_typed()

    def _show_query_text(self) -> None:
        bar = self.query_one("#audit-query", Input)
        with bar.prevent(Input.Changed):
            bar.value = self.query_text

    def action_focus_query(self) -> None:
        self.query_one("#audit-query", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "audit-query":
            return
        self.query_text = event.value
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE_S, self._apply_typed)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "audit-query":
            self._apply_typed()
            self.log_view.focus()

    def key_escape(self) -> None:
        bar = self.query_one("#audit-query", Input)
        if self.exporting is not None:
            self.exporting.cancel()
        elif bar.has_focus:
            self.log_view.focus()

    def _apply_typed(self) -> None:
        if self._typing is not None:
            self._typing.stop()
            self._typing = None
        error = self.query_one("#query-error", Static)
        try:
            query = parse(self.query_text)
        except QueryError as problem:
            where = f" (at column {problem.start + 1})" if problem.end > problem.start else ""
            error.update(f"{problem.message}{where}")
            self.set_class(True, "-query-error")
            return
        error.update("")
        self.set_class(False, "-query-error")
        if query != self.applied:
            self._start(query)

    # -- keys --------------------------------------------------------------------------------

    def on_call_log_selected(self, event: CallLog.Selected) -> None:
        # The detail and the dialogs load when first wanted, not on the way to F6's first rows.
        from llmbench.tui.screens.audit.call_detail import CallDetailScreen

        detail = CallDetailScreen(event.call.id, self.applied.text)
        self.app.push_screen(detail, self._detail_closed)

    def _detail_closed(self, result: OpenVersion | None) -> None:
        if result is None:
            return
        self.app.switch_mode("prompts")
        prompts = self.app.screen
        select = getattr(prompts, "select_version", None)
        if select is not None:
            select(result.prompt_id, result.version_id)

    def action_thread(self) -> None:
        from llmbench.tui.screens.audit.thread_view import ThreadScreen

        current = self.log_view.current
        if current is None:
            self.notify("Select a call to see its conversation or trace.", severity="warning")
            return

        def closed(query: str | None) -> None:
            if query:
                self.set_query(query)
                self.log_view.focus()

        self.app.push_screen(ThreadScreen(current.id), closed)

    def action_columns(self) -> None:
        def chosen(keys: list[str] | None) -> None:
            if keys:
                self.columns = keys
                self.log_view.set_columns(keys)

        from llmbench.tui.screens.audit.columns import ColumnsDialog

        self.app.push_screen(ColumnsDialog(self.columns), chosen)

    def action_jump(self) -> None:
        now = self.bench.now()

        def check(values: dict[str, str]) -> str | None:
            try:
                parse_moment(values["when"], now)
            except QueryError as problem:
                return problem.message
            return None

        def jump(values: dict[str, str] | None) -> None:
            if values is not None:
                self.log_view.jump_to(parse_moment(values["when"], now))
                self.log_view.focus()

        from llmbench.tui.screens.dialogs import Field, FormDialog

        current = self.log_view.current
        field = Field(
            "when",
            "Date or time (UTC): 2025-05-01, 2025-05-01T14:30, or 3d for three days ago",
            value=current.ts[:10] if current else "",
        )
        self.app.push_screen(FormDialog("Jump to", [field], submit="Jump", validate=check), jump)

    def action_import(self) -> None:
        from llmbench.tui.screens.audit.import_dialog import ImportDialog

        self.app.push_screen(ImportDialog(on_imported=self.action_reload))

    def action_export(self) -> None:
        source = self.source
        if source is None:
            return
        from llmbench.tui.screens.dialogs import Field, FormDialog

        stamp = self.bench.now().strftime("%Y%m%d-%H%M")
        fields = [
            Field("path", "File", value=str(Path.cwd() / f"llmbench-calls-{stamp}.jsonl")),
            Field("format", "Format", value="jsonl", choices=("jsonl", "csv")),
        ]

        def check(values: dict[str, str]) -> str | None:
            path = Path(values["path"]).expanduser()
            if not values["path"].strip():
                return "Name the file to write."
            if path.is_dir():
                return f"{path} is a folder."
            if not path.parent.is_dir():
                return f"The folder {path.parent} does not exist."
            return None

        what = "the filtered calls" if not source.query.is_empty else "every call"
        self.app.push_screen(
            FormDialog(f"Export {what}", fields, submit="Export", validate=check),
            lambda values: self._export(source, values),
        )

    def _export(self, source: FilteredCalls, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.audit import browser as audit_log

        path = Path(values["path"]).expanduser()
        # A name ending in .csv or .jsonl says the format; the Format field is for other names
        # (it keeps "jsonl" when only the path was edited to end in .csv).
        named = path.suffix.lower().lstrip(".")
        fmt = audit_log.format_for(
            path, named if named in audit_log.EXPORT_FORMATS else values["format"]
        )
        known = self.matches if source is self.source else None
        self.exported = (0, known[0] if known and known[1] else None)
        self.notify(f"Exporting to {path}… (escape cancels)")

        def progress(done: int) -> None:  # in the worker, every few thousand calls
            if get_current_worker().is_cancelled:
                raise audit_log.ExportCancelled
            self.app.call_from_thread(self._export_progress, done)

        def work() -> None:
            try:
                written = audit_log.export_to_file(
                    source.store, source.filter(), path, fmt, progress=progress
                )
            except audit_log.ExportCancelled:
                self.app.call_from_thread(self._export_done, "Export cancelled: no file written.")
            except Exception as error:  # a failed export is told, never fatal
                self.app.call_from_thread(self._export_done, None)
                self.post_message(ActionFailed("Export", str(error) or type(error).__name__))
            else:
                self.app.call_from_thread(
                    self._export_done, f"Exported {count(written)} calls to {path}."
                )

        self.exporting = self.run_worker(work, thread=True, group="export", name="Export")
        self._update_status()

    def _export_progress(self, done: int) -> None:
        self.exported = (done, self.exported[1])
        self._update_status()

    def _export_done(self, message: str | None) -> None:
        self.exporting = None
        self._update_status()
        if message:
            self.notify(message)
