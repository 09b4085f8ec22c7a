"""Side-by-side outputs: one column per prompt version × model for the case on screen, each
with its tokens, cost, latency and verdict underneath, filling in as the answer streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from llmbench.tui.format import NOTHING, millis, model_label, money

if TYPE_CHECKING:
    from llmbench.services.compare.board import CellState, Column

MAX_COLUMNS = 4


def verdict_mark(state: CellState) -> str:
    """✓/✗ with the score for a graded cell; what the cell is doing otherwise."""
    if state.status == "pending":
        return "· waiting"
    if state.status == "running":
        return "▸ streaming" if state.text else "▸ asking the model"
    if state.status == "error":
        return "⚠ error"
    flag = " ⚑" if state.flagged else ""
    if state.passed is None:
        return "● answered" + flag
    score = "" if state.score is None else f" {state.score:.2f}"
    return ("✓" if state.passed else "✗") + score + flag


def figures_line(state: CellState) -> str:
    if state.status in ("pending", "running"):
        return verdict_mark(state) + (f" · {len(state.text):,} chars" if state.text else "")
    tokens = NOTHING
    if state.prompt_tokens is not None or state.completion_tokens is not None:
        tokens = f"{state.prompt_tokens or 0:,}+{state.completion_tokens or 0:,} tok"
    return " · ".join((verdict_mark(state), tokens, money(state.cost), millis(state.latency_ms)))


class OutputColumn(Vertical):
    DEFAULT_CSS = """
    OutputColumn {
        width: 1fr;
        border: round $primary 40%;
        .column-title { text-style: bold; height: 1; }
        .column-body { height: 1fr; }
        .column-figures { height: auto; color: $text-muted; }
        &.-failed .column-figures { color: $text-error; }
        &.-passed .column-figures { color: $text-success; }
    }
    """

    def __init__(self, index: int) -> None:
        super().__init__(id=f"column-{index}")
        self._shown: tuple[str, str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="column-title", markup=False)
        with VerticalScroll(classes="column-body"):
            yield Static("", classes="column-text", markup=False)
        yield Static("", classes="column-figures", markup=False)

    def show(self, column: Column, state: CellState) -> None:
        title = f"{column.label} · {model_label(column.model)}"
        text = state.text or ("(waiting for its turn)" if state.status == "pending" else "")
        if state.failures and state.finished:
            text += "\n\n" + "\n".join(f"✗ {failure}" for failure in state.failures)
        wanted = (title, text, figures_line(state))
        if wanted == self._shown:
            return  # a refresh without news costs nothing
        self._shown = wanted
        self.query_one(".column-title", Static).update(title)
        self.query_one(".column-text", Static).update(text)
        self.query_one(".column-figures", Static).update(wanted[2])
        self.set_class(state.passed is False or state.status == "error", "-failed")
        self.set_class(state.passed is True, "-passed")


class OutputColumns(Horizontal):
    """Up to MAX_COLUMNS columns; which ones and for which case is the screen's to say."""

    DEFAULT_CSS = """
    OutputColumns { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        for index in range(MAX_COLUMNS):
            yield OutputColumn(index)

    def show(self, cells: list[tuple[Column, CellState]]) -> None:
        for index, column in enumerate(self.query(OutputColumn)):
            column.display = index < len(cells)
            if index < len(cells):
                column.show(*cells[index])
