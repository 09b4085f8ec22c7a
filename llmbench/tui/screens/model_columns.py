"""How a model's facts and figures read in a table, for the models view (F8) and the F3 model
picker alike: the columns, each cell's text, which columns stay when the width is short, and
the models view's table that folds them as it is resized.

Columns fold by priority: at 80 columns the model, its context window, input and output
prices, and latency p50 always stay (then pass rate, calls…); wider terminals show the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmbench.tui.format import NOTHING, count, millis, model_label, money, percent
from llmbench.tui.widgets.virtual_table import Column, TableRow, VirtualTable

if TYPE_CHECKING:
    from llmbench.services.models.catalog import ModelEntry
    from llmbench.services.models.facts import ModelFacts

MODEL_MIN_WIDTH = 24
UNKNOWN = "?"
NO_LIMIT = "no limit"


@dataclass(frozen=True)
class ModelColumn:
    column: Column
    priority: int
    """Lower stays longer; 0 never folds."""


def _col(key: str, label: str, width: int | None, priority: int) -> ModelColumn:
    return ModelColumn(Column(key, label, width, align_right=width is not None), priority)


# In the order shown; `priority` decides which fold first.
MODEL_COLUMNS: tuple[ModelColumn, ...] = (
    _col("model", "Model", None, 0),
    _col("context", "Context", 8, 0),
    _col("max_output", "Max out", 8, 5),
    _col("input", "In $/M", 7, 0),
    _col("output", "Out $/M", 7, 0),
    _col("cached", "Cached", 7, 5),
    _col("reasoning", "Reason.", 7, 6),
    _col("tools", "Tools", 5, 4),
    _col("vision", "Vision", 6, 4),
    ModelColumn(Column("licence", "Licence", 13), 3),
    _col("calls", "Calls", 7, 2),
    _col("errors", "Errors", 6, 2),
    _col("p50", "p50", 8, 0),
    _col("p95", "p95", 8, 4),
    _col("cost", "Cost", 9, 3),
    _col("pass", "Pass", 6, 1),
    _col("judge", "Judge", 5, 5),
)
ALWAYS_SHOWN = tuple(spec.column.key for spec in MODEL_COLUMNS if spec.priority == 0)


def fitting_columns(width: int, model_min: int = MODEL_MIN_WIDTH) -> tuple[Column, ...]:
    """The columns that fit in `width` cells (a VirtualTable's: one leading space, one between
    columns), adding them by priority and stopping at the first that does not fit, in the order
    they are shown."""
    used = 1 + model_min
    kept = {MODEL_COLUMNS[0].column.key}
    for spec in sorted(MODEL_COLUMNS[1:], key=lambda spec: spec.priority):
        need = (spec.column.width or 0) + 1
        if spec.priority > 0 and used + need > width:
            break
        used += need
        kept.add(spec.column.key)
    return tuple(spec.column for spec in MODEL_COLUMNS if spec.column.key in kept)


def tokens_short(tokens: int | None) -> str:
    """128000 -> '128k', 1048576 -> '1.0M'."""
    if tokens is None:
        return UNKNOWN
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.1f}M"
    if tokens >= 1_000:
        return f"{tokens / 1_000:.0f}k"
    return str(tokens)


def per_million(usd: float | None) -> str:
    """A price per million tokens, without the dollar sign the column header carries."""
    if usd is None:
        return NOTHING
    if usd == 0:
        return "0"
    if usd >= 100:
        return f"{usd:,.0f}"
    cents = usd * 100
    if usd >= 1 or abs(cents - round(cents)) < 1e-9:
        return f"{usd:.2f}"
    return f"{usd:.4g}"  # 0.075, 0.01875: a fraction of a cent per million still reads


def yes_no(flag: bool | None) -> str:
    return UNKNOWN if flag is None else ("yes" if flag else "no")


def context_text(facts: ModelFacts) -> str:
    return NO_LIMIT if facts.unlimited else tokens_short(facts.context_window)


def max_output_text(facts: ModelFacts) -> str:
    return NO_LIMIT if facts.unlimited else tokens_short(facts.max_output)


def judge_text(score: float | None) -> str:
    return NOTHING if score is None else f"{score:.2f}"


def cells_of(entry: ModelEntry) -> dict[str, str]:
    """Every column's text for one model, by column key."""
    facts, measured = entry.facts, entry.measured
    price = facts.price
    return {
        "model": model_label(entry.name),
        "context": context_text(facts),
        "max_output": max_output_text(facts),
        "input": per_million(price.input if price else None),
        "output": per_million(price.output if price else None),
        "cached": per_million(price.cached if price else None),
        "reasoning": per_million(facts.reasoning_price),
        "tools": yes_no(facts.tools),
        "vision": yes_no(facts.vision),
        "licence": facts.licence.name,
        "calls": count(measured.calls),
        "errors": percent(measured.error_rate),
        "p50": millis(measured.latency_p50),
        "p95": millis(measured.latency_p95),
        "cost": money(measured.cost) if measured.calls else NOTHING,
        "pass": percent(measured.pass_rate),
        "judge": judge_text(measured.judge_score),
    }


def row_cells(entry: ModelEntry, columns: Sequence[Column]) -> tuple[str, ...]:
    texts = cells_of(entry)
    return tuple(texts[column.key] for column in columns)


class ModelTable(VirtualTable):
    """The models, one row each, showing the columns that fit its width (refolded on resize)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(fitting_columns(80), id=id)
        self._texts: list[tuple[str, dict[str, str]]] = []

    def show_models(self, entries: Sequence[ModelEntry]) -> None:
        """Replace the rows; the cursor stays on its model while that model is listed."""
        self._texts = [(entry.name, cells_of(entry)) for entry in entries]
        self._fold(force=True)

    def _fold(self, *, force: bool = False) -> None:
        columns = fitting_columns(self.size.width or 80)
        if columns == self.columns and not force:
            return
        self.columns = columns
        self.set_rows(
            [
                TableRow(key, tuple(texts[column.key] for column in columns))
                for key, texts in self._texts
            ]
        )

    def on_resize(self) -> None:
        super().on_resize()
        self._fold()


# -- the F3 model picker: one line per model, in fixed columns ---------------------------------
PICKER_NAME_WIDTH = 26
PICKER_NAME_MIN = 14
# In the order shown, which is also the order they stay in as the list narrows.
PICKER_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("context", "Context", 8),
    ("input", "In $/M", 7),
    ("output", "Out $/M", 7),
    ("p50", "p50", 8),
    ("pass", "Pass", 6),
)


@dataclass(frozen=True)
class PickerLayout:
    name_width: int
    fields: tuple[tuple[str, str, int], ...]


def picker_layout(room: int | None) -> PickerLayout:
    """The fields that fit `room` cells after the name (at least PICKER_NAME_MIN wide); all of
    them when the room is not known yet."""
    if room is None:
        return PickerLayout(PICKER_NAME_WIDTH, PICKER_FIELDS)
    fields = list(PICKER_FIELDS)
    while fields and PICKER_NAME_MIN + sum(width + 1 for _k, _l, width in fields) > room:
        fields.pop()
    used = sum(width + 1 for _k, _l, width in fields)
    return PickerLayout(max(PICKER_NAME_MIN, min(PICKER_NAME_WIDTH, room - used)), tuple(fields))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def picker_header(layout: PickerLayout) -> str:
    fields = "".join(" " + label.rjust(width) for _key, label, width in layout.fields)
    return "Model".ljust(layout.name_width) + fields


def picker_line(model: str, entry: ModelEntry | None, layout: PickerLayout) -> str:
    """The model's name, then its context window, prices, measured p50 and pass rate (as many
    of them as the layout has room for)."""
    name = _cut(model_label(model), layout.name_width).ljust(layout.name_width)
    if entry is None:
        return name.rstrip()
    texts = cells_of(entry)
    return name + "".join(" " + texts[key].rjust(width) for key, _label, width in layout.fields)
