"""The audit log as a Line-API view that holds only a window of calls, however many there are.

toolong's log view is the model: nothing is measured or kept per row of the whole log. The view
keeps a contiguous window of at most MAX_ROWS calls around the cursor, reads the next page (by
key, in a thread the pane starts: `ReadStarter`) when the cursor comes within MARGIN rows of
either end of the window, and drops pages far behind it. Home/end and jumps to a date replace
the window.

It is a plain Widget drawing with `render_line` rather than a ScrollView: a scrollbar needs the
position of every row, which keyset paging deliberately never computes. The pane shows where
the cursor is instead (its row number when the view came from the top, its time always).

On a narrow terminal columns fold by priority so the response, or a search match with its
context, stays readable (`call_log_layout`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from llmbench.tui.format import NOTHING, count, millis, model_label, money, timestamp
from llmbench.tui.widgets.call_log_layout import Placed, fit, layout, window_on_match

if TYPE_CHECKING:
    from llmbench.store.audit.browser import CallKey, CallSummary, Page

Direction = Literal["older", "newer"]
ReadStarter = Callable[
    [Callable[[], "Page"], Callable[["Page"], None], str, Callable[[str], None]], None
]
"""Starts one read of a page in a thread: (read, apply, group, failed). The pane's: its reads
are stopped with the pane's as it is left, and the store's close waits for them."""
_PROBLEM_STATUSES = frozenset({"error", "timeout", "rate_limited", "blocked"})
PAGE_ROWS = 100
MARGIN = 60
MAX_ROWS = 1_000


class LogSource(Protocol):
    """Where the view reads its calls; both methods run in a worker thread."""

    def read(self, after: CallKey | None, direction: Direction, limit: int) -> Page: ...

    def seek(self, moment: str, limit: int) -> Page: ...


@dataclass(frozen=True)
class LogColumn:
    key: str
    label: str
    width: int | None
    """Cells wide; None for the one flexible column (it takes what the others leave)."""
    cell: Callable[[CallSummary], str]
    align_right: bool = False
    priority: int = 0
    """Which fold first when the width is short: the highest first; 0 never folds."""
    compact: int | None = None
    """A narrower width used once only the columns that never fold are left."""
    compact_cell: Callable[[CallSummary], str] | None = None
    """What the cell says at its compact width, when cutting the full text would lose more."""

    def text(self, call: CallSummary, *, compact: bool = False) -> str:
        return ((self.compact_cell if compact else None) or self.cell)(call)


def _tokens(call: CallSummary) -> str:
    return f"{count(call.prompt_tokens)}/{count(call.completion_tokens)}"


def preview_text(call: CallSummary) -> str:
    if call.snippet is not None:
        return call.snippet.text
    return " ".join(call.preview.split())


def _short_time(call: CallSummary) -> str:
    # 'MM-DD HH:MM': the year and seconds matter least when the log is scanned by eye.
    return timestamp(call.ts)[5:16]


COLUMNS: tuple[LogColumn, ...] = (
    LogColumn("id", "#", 8, lambda c: str(c.id), align_right=True, priority=3),
    LogColumn("time", "Time (UTC)", 19, lambda c: timestamp(c.ts), compact=11,
              compact_cell=_short_time),
    LogColumn("model", "Model", 27, lambda c: model_label(c.model), compact=18),
    LogColumn("status", "Status", 12, lambda c: c.status, compact=8),
    # Right after the status, so a guard's flag shows on narrow terminals too.
    LogColumn("flagged", "⚑", 1, lambda c: "⚑" if c.flagged else ""),
    LogColumn("tokens", "Tokens in/out", 13, _tokens, align_right=True, priority=2),
    LogColumn("cost", "Cost", 9, lambda c: money(c.cost), align_right=True, compact=8),
    LogColumn("latency", "Latency", 8, lambda c: millis(c.latency_ms), align_right=True,
              priority=1),
    LogColumn("ttft", "TTFT", 8, lambda c: millis(c.ttft_ms), align_right=True, priority=4),
    LogColumn("feature", "Feature", 14, lambda c: c.feature or NOTHING, priority=5),
    LogColumn("prompt", "Prompt", 20, lambda c: c.prompt or NOTHING, priority=4),
    LogColumn("team", "Team", 12, lambda c: c.team or NOTHING, priority=6),
    LogColumn("customer", "Customer", 14, lambda c: c.customer or NOTHING, priority=6),
    LogColumn("user", "User", 10, lambda c: c.user or NOTHING, priority=6),
    LogColumn("run", "Run", 5, lambda c: NOTHING if c.run_id is None else str(c.run_id),
              priority=6),
    LogColumn("attempt", "Try", 3, lambda c: str(c.attempt), align_right=True, priority=6),
    LogColumn("provider", "Provider", 10, lambda c: c.provider or NOTHING, priority=6),
    LogColumn("finish", "Finish", 8, lambda c: c.finish_reason or NOTHING, priority=6),
    LogColumn("preview", "Response / match", None, preview_text),
)  # fmt: skip
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_COLUMNS = ("id", "time", "model", "status", "flagged", "tokens", "cost", "latency",
                   "feature", "prompt", "preview")  # fmt: skip


class CallLog(Widget, can_focus=True):
    """Calls newest first with a cursor. Posts Highlighted when the cursor lands on a call and
    Selected on enter."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="log_up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="log_down"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="log_page_up"),
        Binding("pagedown,ctrl+f,space", "page(1)", "Page down", show=False, id="log_page_down"),
        Binding("g,home", "start", "Newest", id="log_start"),
        Binding("G,end", "end", "Oldest", id="log_end"),
        Binding("enter", "select", "Open", id="log_open"),
    ]
    COMPONENT_CLASSES = {
        "call-log--header",
        "call-log--cursor",
        "call-log--even",
        "call-log--problem",
        "call-log--match",
        "call-log--note",
    }
    DEFAULT_CSS = """
    CallLog {
        height: 1fr;
        background: $surface;
        & > .call-log--header { text-style: bold; color: $text-accent; }
        & > .call-log--even { background: $surface-lighten-1; }
        & > .call-log--problem { color: $text-error; }
        & > .call-log--match { text-style: bold reverse; color: $text-warning; }
        & > .call-log--note { color: $text-muted; }
        & > .call-log--cursor { background: $block-cursor-blurred-background; }
        &:focus > .call-log--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    class Highlighted(Message):
        def __init__(self, log: CallLog, call: CallSummary) -> None:
            super().__init__()
            self.log = log
            self.call = call

        @property
        def control(self) -> CallLog:
            return self.log

    class Selected(Highlighted):
        pass

    def __init__(
        self, *, reads: ReadStarter, columns: Sequence[str] = DEFAULT_COLUMNS, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._reads = reads
        self.columns = [COLUMNS_BY_KEY[key] for key in columns]
        self.source: LogSource | None = None
        self.rows: list[CallSummary] = []
        self.cursor = 0
        self.top = 0
        self.at_top = False
        """No call is newer than rows[0]."""
        self.at_bottom = False
        """No call is older than rows[-1]."""
        self.window_start: int | None = None
        """How many calls come before rows[0] in the list, when the window grew from the top."""
        self.loaded = False
        """The first page of the current source has arrived."""
        self._generation = 0
        self._pending: set[str] = set()
        self._window: tuple[str, str | None] = ("first", None)
        """How the window was last replaced (kind, moment): done again if that read is stopped."""
        self._last_highlight: int | None = None
        self._empty_note = "No call matches."

    # -- what is shown -----------------------------------------------------------------------

    @property
    def current(self) -> CallSummary | None:
        return self.rows[self.cursor] if self.rows else None

    @property
    def row_number(self) -> int | None:
        """The cursor's 1-based position in the whole filtered list, when known."""
        if self.window_start is None or not self.rows:
            return None
        return self.window_start + self.cursor + 1

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def set_columns(self, keys: Sequence[str]) -> None:
        self.columns = [COLUMNS_BY_KEY[key] for key in keys if key in COLUMNS_BY_KEY]
        self.refresh()

    def set_source(self, source: LogSource, *, empty_note: str = "No call matches.") -> None:
        """Show another filtered list, from its newest call."""
        self.source = source
        self._empty_note = empty_note
        self.loaded = False
        self._reset("first")

    def reload(self) -> None:
        """Read the list again from the top (new calls arrived, a filter changed)."""
        if self.source is not None:
            self._reset("first")

    # -- reading -----------------------------------------------------------------------------

    @property
    def _visible(self) -> int:
        return max(self.size.height - 1, 1)

    def _reset(self, kind: str, moment: str | None = None) -> None:
        self._generation += 1
        self._pending = {kind}
        self._window = (kind, moment)
        self._read(kind, None, moment)

    def _read(self, kind: str, after: CallKey | None, moment: str | None = None) -> None:
        source, generation = self.source, self._generation
        if source is None:
            return
        limit = max(PAGE_ROWS, self._visible * 2)

        def read() -> Page:
            if kind == "seek" and moment is not None:
                return source.seek(moment, limit)
            return source.read(after, "older" if kind in ("first", "older") else "newer", limit)

        self._reads(
            read, lambda page: self._window_read(generation, kind, page), f"call-log-{kind}",
            self._failed,
        )  # fmt: skip

    def read_again(self, kinds: set[str]) -> None:
        """The reads of `kinds` ("first", "older"...) were stopped as the pane was left: the
        pane is shown again, so read what is still missing."""
        if self.source is None:
            return
        kind, moment = self._window
        if kind in kinds and kind in self._pending:
            self._reset(kind, moment)
            return
        self._pending -= kinds
        self._prefetch()

    def _failed(self, error: str) -> None:
        self._pending.clear()
        self.loaded = True
        self.refresh()
        self.notify(error, title="Audit log: cannot read", severity="error")

    def _window_read(self, generation: int, kind: str, page: Page) -> None:
        if generation != self._generation:
            return  # read for a filter or position that has since been replaced
        self._pending.discard(kind)
        rows = page.rows
        if kind in ("first", "last", "seek"):
            self.rows = list(rows)
            self.at_top = kind == "first" or (kind == "last" and not page.more)
            self.at_bottom = kind == "last" or not page.more
            self.window_start = 0 if kind == "first" else None
            if kind == "last":
                self.cursor = max(len(self.rows) - 1, 0)
                self.top = max(len(self.rows) - self._visible, 0)
                if self.at_top:
                    self.window_start = 0
            else:
                self.cursor = self.top = 0
            self.loaded = True
            self._last_highlight = None
        elif kind == "older":
            self.rows.extend(rows)
            self.at_bottom = not page.more
            self._trim_front()
        else:  # newer
            self.rows[:0] = rows
            self.cursor += len(rows)
            self.top += len(rows)
            if self.window_start is not None:
                self.window_start -= len(rows)
            self.at_top = not page.more
            if self.at_top:
                self.window_start = 0
            self._trim_back()
        self._settle()

    def _trim_front(self) -> None:
        extra = len(self.rows) - MAX_ROWS
        keep_from = min(extra, self.top - MARGIN)
        if extra > 0 and keep_from > 0:
            del self.rows[:keep_from]
            self.cursor -= keep_from
            self.top -= keep_from
            self.at_top = False
            if self.window_start is not None:
                self.window_start += keep_from

    def _trim_back(self) -> None:
        extra = len(self.rows) - MAX_ROWS
        last_needed = self.top + self._visible + MARGIN
        if extra > 0 and len(self.rows) - extra > last_needed:
            del self.rows[len(self.rows) - extra :]
            self.at_bottom = False

    def _prefetch(self) -> None:
        if not self.rows or not self.loaded:
            return
        reach = MARGIN + self._visible
        below = len(self.rows) - 1 - self.cursor
        if not self.at_bottom and below < reach and "older" not in self._pending:
            self._pending.add("older")
            self._read("older", self.rows[-1].key)
        if not self.at_top and self.cursor < reach and "newer" not in self._pending:
            self._pending.add("newer")
            self._read("newer", self.rows[0].key)

    def _settle(self) -> None:
        """After any move or read: keep the cursor in view, read ahead, tell the pane."""
        if self.rows:
            self.cursor = max(0, min(self.cursor, len(self.rows) - 1))
            if self.cursor < self.top:
                self.top = self.cursor
            elif self.cursor >= self.top + self._visible:
                self.top = self.cursor - self._visible + 1
            self.top = max(0, min(self.top, max(len(self.rows) - self._visible, 0)))
            current = self.rows[self.cursor]
            if current.id != self._last_highlight:
                self._last_highlight = current.id
                self.post_message(self.Highlighted(self, current))
        else:
            self.cursor = self.top = 0
        self._prefetch()
        self.refresh()

    # -- keys --------------------------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        self.cursor += step
        self._settle()

    def action_page(self, direction: int) -> None:
        step = direction * max(self._visible - 1, 1)
        self.cursor += step
        self.top += step
        self._settle()

    def action_start(self) -> None:
        if self.at_top and self.window_start == 0:
            self.cursor = self.top = 0
            self._settle()
        else:
            self._reset("first")

    def action_end(self) -> None:
        if self.at_bottom and self.rows:
            self.cursor = len(self.rows) - 1
            self._settle()
        else:
            self._reset("last")

    def jump_to(self, moment: str) -> None:
        """Show the calls at or before `moment` (ISO UTC), the newest of them under the cursor."""
        self._reset("seek", moment)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.rows[self.cursor]))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_cursor(3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_cursor(-3)

    def on_click(self, event: events.Click) -> None:
        index = self.top + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.rows):
            self.focus()
            if index == self.cursor:
                self.action_select()
            self.cursor = index
            self._settle()

    def on_resize(self) -> None:
        self._settle()

    # -- drawing -----------------------------------------------------------------------------

    def placed(self) -> list[Placed[LogColumn]]:
        """The columns as drawn at the current width: some fold on a narrow terminal."""
        return layout(self.columns, self.size.width - 1)

    def _strip(self, parts: list[Segment], style: Style) -> Strip:
        return Strip(parts).adjust_cell_length(self.size.width, style).simplify()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        placed = self.placed()
        if y == 0:
            header = base + self.get_component_rich_style("call-log--header")
            labels = [fit(p.column.label, p.width, p.column.align_right) for p in placed]
            return self._strip([Segment(" " + " ".join(labels), header)], header)
        index = self.top + y - 1
        if index >= len(self.rows):
            if not self.rows and y == 1 and self.loaded:
                note = base + self.get_component_rich_style("call-log--note")
                return self._strip([Segment(" " + self._empty_note, note)], note)
            return Strip.blank(width, base)
        style = base
        if index % 2 == 1:
            style += self.get_component_rich_style("call-log--even")
        if index == self.cursor:
            style += self.get_component_rich_style("call-log--cursor")
        return self._strip(self._cells(self.rows[index], placed, style), style)

    def _cells(
        self, call: CallSummary, placed: list[Placed[LogColumn]], style: Style
    ) -> list[Segment]:
        parts = [Segment(" ", style)]
        for place in placed:
            column, width = place.column, place.width
            if column.key == "preview" and call.snippet is not None and call.snippet.spans:
                # Cut around the match, not from the start: the match is what was searched for.
                text, spans = window_on_match(call.snippet.text, call.snippet.spans, width)
                parts.extend(self._marked(text, spans, style))
            else:
                text = fit(column.text(call, compact=place.compact), width, column.align_right)
                if column.key == "status" and call.status in _PROBLEM_STATUSES:
                    problem = style + self.get_component_rich_style("call-log--problem")
                    parts.append(Segment(text, problem))
                else:
                    parts.append(Segment(text, style))
            parts.append(Segment(" ", style))
        return parts

    def _marked(self, text: str, spans: Sequence[tuple[int, int]], style: Style) -> list[Segment]:
        match = style + self.get_component_rich_style("call-log--match")
        parts, at = [], 0
        for start, end in spans:
            start, end = min(start, len(text)), min(end, len(text))
            if start >= end or start < at:
                continue
            parts.append(Segment(text[at:start], style))
            parts.append(Segment(text[start:end], match))
            at = end
        parts.append(Segment(text[at:], style))
        return parts
