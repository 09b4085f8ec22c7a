"""One comparison run, live: the outputs of a case side by side (2–4 columns) or every cell in
a grid, filling in as the answers stream.

The run itself works in a thread worker (services.compare_runs) and records into a RunBoard;
this screen looks at the board ten times a second and redraws only what changed, so typing and
scrolling stay quick however fast the cells arrive. Escape cancels: the cells in flight finish
and every finished cell is kept; `r` resumes with only the missing ones.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Header, Static
from textual.worker import get_current_worker

from llmbench.tui.format import model_label
from llmbench.tui.screens.base import ActionFailed, DataRead, ReadFailed
from llmbench.tui.screens.dialogs import Field, FormDialog, Unsaved
from llmbench.tui.screens.pushed import PushedScreen
from llmbench.tui.widgets.cell_grid import CellGrid, row_key
from llmbench.tui.widgets.output_columns import MAX_COLUMNS, OutputColumns
from llmbench.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from llmbench.services.compare.board import CellState, Column, RunBoard
    from llmbench.services.evaluation.engine import RunSummary
    from llmbench.store.evaluation.run_cells import CellKey
    from llmbench.tui.app import LLMBenchApp

REFRESH_S = 0.1
PROMOTED_DATASET = "from comparisons"
KEEP_GOLDEN = "keep the case's expected answer"
USE_OUTPUT = "use this output as the expected answer"


class RunScreen(PushedScreen[None]):
    BINDINGS = [
        Binding("escape", "escape", "Cancel run / back", id="run_escape"),
        Binding("v", "toggle_view", "Grid / columns", id="run_toggle_view"),
        Binding("right_square_bracket", "next_case", "Next case", id="run_next_case"),
        Binding(
            "left_square_bracket",
            "previous_case",
            "Previous case",
            id="run_previous_case",
            show=False,
        ),
        Binding("greater_than_sign", "shift_columns(1)", "More columns", id="run_columns_right"),
        Binding(
            "less_than_sign",
            "shift_columns(-1)",
            "Earlier columns",
            id="run_columns_left",
            show=False,
        ),
        Binding("d", "diff", "Diff outputs", id="run_diff"),
        Binding("r", "resume", "Resume", id="run_resume"),
        Binding("m", "report", "Migration report", id="run_report"),
        Binding("p", "promote", "To test case", id="run_promote"),
    ]
    DEFAULT_CSS = """
    RunScreen {
        #run-status { height: 1; padding: 0 1; background: $boost; }
        #run-case { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
        #run-views { height: 1fr; }
    }
    """

    def __init__(self, run_id: int, *, start: bool = False) -> None:
        super().__init__()
        self.run_id = run_id
        self.start_when_loaded = start
        self.board: RunBoard | None = None
        self.row_index = 0
        self.first_column = 0
        self.running = False
        self.stop = threading.Event()
        self.grid_behind: set[CellKey] = set()  # changed cells the hidden grid has not shown
        self.title = f"Run {run_id}"

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the run…", id="run-status", markup=False)
        with Vertical(id="run-body"):
            yield Static("", id="run-case", markup=False)
            with ContentSwitcher(initial="run-columns", id="run-views"):
                yield OutputColumns(id="run-columns")
                yield CellGrid(id="run-grid")
        yield PaneFooter()

    def on_mount(self) -> None:
        from llmbench.services.compare.board import load_board

        store, settings, run_id = self.bench.store, self.bench.settings, self.run_id

        def work() -> None:
            try:
                board = load_board(store, settings, run_id)
            except Exception as error:  # a run that cannot be read is told, never fatal
                self.post_message(ReadFailed("Compare", f"{type(error).__name__}: {error}"))
                return
            if not get_current_worker().is_cancelled:
                self.post_message(DataRead(self._loaded, board))

        self.run_worker(work, thread=True, group="board", name="read run")
        self.set_interval(REFRESH_S, self._tick)
        self.bench.hold_work(self)

    def on_unmount(self) -> None:
        # Leaving the app mid-run: no new cell starts, so the process can end once the cells
        # in flight are written (the run stays resumable).
        self.stop.set()
        self.bench.release_work(self)

    # -- HoldsWork: ctrl+q asks before stopping a running comparison ---------------------------

    def unsaved_work(self) -> list[Unsaved]:
        if not self.running or self.board is None:
            return []
        progress = self.board.progress()
        return [
            Unsaved(f"{self.board.name}: {progress.finished}/{progress.total} cells", running=True)
        ]

    def keep_drafts(self) -> None:
        """The app is quitting: nothing typed here, and the finished cells are in the file."""
        self._stop_for_quit()

    def discard_drafts(self) -> None:
        """The app is quitting: nothing typed here to throw away."""
        self._stop_for_quit()

    def _stop_for_quit(self) -> None:
        # Not left to on_unmount: the app may exit before this screen is unmounted, and the run
        # must end as cancelled (resumable), its in-flight cells written, not stay "running".
        self.stop.set()

    def _loaded(self, board: RunBoard) -> None:
        self.board = board
        self.title = board.name
        self.query_one(CellGrid).load(board)
        self._show_case()
        self._show_status()
        if self.start_when_loaded:
            self.start_when_loaded = False
            self._start()

    # -- the run -----------------------------------------------------------------------------

    def _start(self) -> None:
        board = self.board
        if board is None or self.running:
            return
        from llmbench.services.compare.runs import run_comparison

        store, settings = self.bench.store, self.bench.settings
        self.stop = stop = threading.Event()
        self.running = True

        def work() -> None:
            try:
                summary = run_comparison(store, settings, board, cancelled=stop.is_set)
            except Exception as error:  # the run's own failures are cells; this is the rest
                self.post_message(ActionFailed("Run", f"{type(error).__name__}: {error}"))
                self.post_message(DataRead(self._ended, None))
                return
            self.post_message(DataRead(self._ended, summary))

        self.run_worker(work, thread=True, group="run", name=f"run {self.run_id}")
        self._show_status()

    def _ended(self, summary: RunSummary | None) -> None:
        self.running = False
        self._tick()
        self._show_status()
        if summary is not None:
            severity = (
                "warning" if summary.status == "cancelled" or summary.errors else "information"
            )
            self.notify(summary.line(), title="Run finished", severity=severity)

    def _tick(self) -> None:
        board = self.board
        if board is None:
            return
        changed = board.take_changes()
        if not changed:
            return
        # A hidden grid is brought up to date when it is shown: while the columns stream,
        # every redraw spared keeps keys answering quickly.
        self.grid_behind |= changed
        if self.query_one(ContentSwitcher).current == "run-grid":
            self._catch_up_grid()
        row = board.rows[self.row_index] if board.rows else None
        if row is not None and any(key[2:] == (row.case_id, row.repeat) for key in changed):
            self._show_columns()
        self._show_status()

    def _catch_up_grid(self) -> None:
        if self.board is not None and self.grid_behind:
            self.query_one(CellGrid).refresh_cells(self.board, self.grid_behind)
            self.grid_behind = set()

    def _show_status(self) -> None:
        board = self.board
        if board is None:
            return
        progress = board.progress()
        parts = [f"{progress.finished}/{progress.total} cells"]
        if progress.running:
            parts.append(f"{progress.running} streaming")
        if progress.errors:
            parts.append(f"{progress.errors} error{'s' if progress.errors != 1 else ''}")
        if progress.graded:
            parts.append(f"{progress.passed}/{progress.graded} passed")
        if self.running:
            state = "cancelling…" if self.stop.is_set() else "running (esc cancels)"
        elif progress.finished < progress.total:
            state = "incomplete (r resumes)" if board.resumable else "incomplete"
        else:
            state = "done"
        self.query_one("#run-status", Static).update(f"{board.name}: {' · '.join(parts)} · {state}")

    # -- what is on screen -------------------------------------------------------------------

    def _visible(self) -> list[tuple[Column, CellState]]:
        board = self.board
        if board is None or not board.rows:
            return []
        row = board.rows[self.row_index]
        columns = board.columns[self.first_column : self.first_column + MAX_COLUMNS]
        return [(column, board.state(column, row)) for column in columns]

    def _show_case(self) -> None:
        board = self.board
        if board is None or not board.rows:
            return
        row = board.rows[self.row_index]
        head = f"Case {self.row_index + 1}/{len(board.rows)}"
        if row.repeat:
            head += f" (repeat {row.repeat + 1})"
        text = f"{head}: {row.title}"
        if row.expected:
            text += f"\nexpected: {row.expected}"
        hidden = len(board.columns) - MAX_COLUMNS
        if hidden > 0:
            last = min(self.first_column + MAX_COLUMNS, len(board.columns))
            text += (
                f"\ncolumns {self.first_column + 1}–{last} of {len(board.columns)}"
                " (< and > for the others)"
            )
        self.query_one("#run-case", Static).update(text)
        self._show_columns()

    def _show_columns(self) -> None:
        self.query_one(OutputColumns).show(self._visible())
        self._watch()

    def _watch(self) -> None:
        """Tell the run which cells are on screen: those stream, the rest are answered whole."""
        board = self.board
        if board is None or not board.rows:
            return
        row = board.rows[self.row_index]
        showing_columns = self.query_one(ContentSwitcher).current == "run-columns"
        board.watched = (row.case_id, row.repeat) if showing_columns else None

    def _move_to(self, index: int) -> None:
        board = self.board
        if board is None or not board.rows:
            return
        self.row_index = index % len(board.rows)
        self._show_case()
        grid = self.query_one(CellGrid)
        row = board.rows[self.row_index]
        key = row_key(row.case_id, row.repeat)
        if key in grid.rows:
            grid.move_cursor(row=grid.get_row_index(key), animate=False)

    def action_next_case(self) -> None:
        self._move_to(self.row_index + 1)

    def action_previous_case(self) -> None:
        self._move_to(self.row_index - 1)

    def action_shift_columns(self, step: int) -> None:
        board = self.board
        if board is None or len(board.columns) <= MAX_COLUMNS:
            return
        last_start = len(board.columns) - MAX_COLUMNS
        self.first_column = max(0, min(last_start, self.first_column + step))
        self._show_case()

    def action_toggle_view(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "run-grid" if switcher.current == "run-columns" else "run-columns"
        if switcher.current == "run-grid":
            self._catch_up_grid()
            self.query_one(CellGrid).focus()
        self._watch()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        board = self.board
        if board is None or event.row_key.value is None:
            return
        keys = [row_key(row.case_id, row.repeat) for row in board.rows]
        if event.row_key.value in keys and keys.index(event.row_key.value) != self.row_index:
            self.row_index = keys.index(event.row_key.value)
            self._show_case()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one(ContentSwitcher).current = "run-columns"
        self._watch()

    # -- actions -----------------------------------------------------------------------------

    def action_escape(self) -> None:
        if self.running:
            if not self.stop.is_set():
                self.stop.set()
                self.notify("The cells in flight finish and are kept; r resumes the rest.")
                self._show_status()
            return
        self.dismiss(None)

    def action_resume(self) -> None:
        board = self.board
        if board is None or self.running:
            return
        if not board.resumable:
            self.notify("This run has no saved plan to resume from.", severity="warning")
        elif board.missing == 0:
            self.notify("Every cell of this run is done.")
        else:
            self._start()

    def action_diff(self) -> None:
        board = self.board
        visible = [(column, state) for column, state in self._visible() if state.text]
        if board is None or len(visible) < 2:
            self.notify("A diff needs two outputs of this case.", severity="warning")
            return
        from llmbench.tui.screens.compare.output_diff import OutputDiffScreen

        outputs = [
            (f"{column.label} · {model_label(column.model)}", state.text)
            for column, state in visible
        ]
        self.app.push_screen(OutputDiffScreen(board.rows[self.row_index].title, outputs))

    def action_report(self) -> None:
        if self.board is None:
            return
        from llmbench.tui.screens.compare.report import MigrationReportScreen

        self.app.push_screen(MigrationReportScreen(self.run_id))

    def action_promote(self) -> None:
        """Keep the case on screen, as one column answered it, as a test case: a failure
        worth guarding against, tagged with why."""
        finished = [
            (column, state)
            for column, state in self._visible()
            if state.finished and state.result_id is not None
        ]
        if not finished:
            self.notify("No finished output of this case to promote yet.", severity="warning")
            return
        labels = {
            f"{column.label} · {model_label(column.model)}": state.result_id
            for column, state in finished
        }
        fields = [
            Field("column", "Output", choices=list(labels)),
            Field("dataset", "Dataset (created if new)", value=PROMOTED_DATASET),
            Field("why", "Why (failure mode)", placeholder="e.g. wrong refund window"),
            Field("expected", "Expected answer", choices=[KEEP_GOLDEN, USE_OUTPUT]),
        ]

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self._promote(labels[values["column"]], values)

        dialog = FormDialog("Promote to a test case", fields, submit="Promote")
        self.app.push_screen(dialog, chosen)

    def _promote(self, result_id: int | None, values: dict[str, str]) -> None:
        if result_id is None:
            return
        from llmbench.services.datasets import promote_result

        store = self.bench.store

        def work() -> None:
            try:
                promoted = promote_result(
                    store,
                    result_id,
                    values["dataset"],
                    values["why"],
                    output_as_expected=values["expected"] == USE_OUTPUT,
                )
            except Exception as error:  # a refused promotion is told, never fatal
                self.post_message(ActionFailed("Promote", str(error)))
                return
            note = f"Case {promoted.case_id} added to {promoted.dataset}"
            self.post_message(
                DataRead(
                    self.notify, note + ("" if not promoted.created_dataset else " (new dataset)")
                )
            )

        self.run_worker(work, thread=True, group="promote", name="promote result")

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.error, title=f"{message.what}: not done", severity="error")

    def on_data_read(self, message: DataRead) -> None:
        message.apply(message.payload)

    def on_read_failed(self, message: ReadFailed) -> None:
        self.query_one("#run-status", Static).update(message.error)
        self.notify(message.error, title="Cannot read the run", severity="error")
