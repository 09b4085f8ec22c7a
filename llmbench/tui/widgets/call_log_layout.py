"""How the call log's columns share a row: which fold first when the terminal is narrow, and
how the flexible "Response / match" column keeps a search match in view.

The response (or, while searching, the matched text with its context) is what a reader scans
for, so it is given at least PREVIEW_MIN cells: columns fold by priority until it has them,
then the columns that never fold are drawn compact (a shorter time, a cut model name). At 80
columns that leaves the time, model, status, flag and cost beside about thirty cells of the
match; at 200 every default column stays and the match gets what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

PREVIEW_MIN = 40
"""Cells the response / match column is given before any column that never folds shrinks."""
PREVIEW_FLOOR = 10
ELLIPSIS = "…"


class Foldable(Protocol):
    @property
    def width(self) -> int | None:
        """Cells wide; None for the one flexible column."""

    @property
    def priority(self) -> int:
        """Which fold first when the width is short: the highest first; 0 never folds."""

    @property
    def compact(self) -> int | None:
        """A narrower width used once only the columns that never fold are left."""


C = TypeVar("C", bound=Foldable)


@dataclass(frozen=True)
class Placed(Generic[C]):
    """A column as drawn at one width."""

    column: C
    width: int
    compact: bool = False


def _cells(columns: Sequence[Foldable], *, compact: bool) -> int:
    """Cells the fixed columns take, each with the space after it."""
    return sum(
        ((column.compact if compact and column.compact else column.width) or 0) + 1
        for column in columns
        if column.width is not None
    )


def layout(columns: Sequence[C], total: int) -> list[Placed[C]]:
    """The columns drawn in `total` cells (the row's leading space excluded): those that fold
    are dropped, highest priority (and rightmost) first, until the flexible column has
    PREVIEW_MIN cells; if it still has not, the rest are drawn compact. Without a flexible
    column nothing folds: the row is cut at the edge as before."""
    flexible = any(column.width is None for column in columns)
    kept = list(columns)
    compact = False
    if flexible:
        foldable = sorted(
            (column for column in kept if column.priority > 0),
            key=lambda column: (-column.priority, -columns.index(column)),
        )
        for column in foldable:
            if total - _cells(kept, compact=False) - 1 >= PREVIEW_MIN:
                break
            kept.remove(column)
        compact = total - _cells(kept, compact=False) - 1 < PREVIEW_MIN
    rest = max(total - _cells(kept, compact=compact) - 1, PREVIEW_FLOOR)
    placed: list[Placed[C]] = []
    for column in kept:
        if column.width is None:
            placed.append(Placed(column, rest))
        elif compact and column.compact:
            placed.append(Placed(column, column.compact, compact=True))
        else:
            placed.append(Placed(column, column.width))
    return placed


def fit(text: str, width: int, right: bool) -> str:
    if len(text) > width:
        return text[: max(width - 1, 0)] + ELLIPSIS if width > 0 else ""
    return text.rjust(width) if right else text.ljust(width)


def window_on_match(
    text: str, spans: Sequence[tuple[int, int]], width: int
) -> tuple[str, list[tuple[int, int]]]:
    """`text` cut to `width` cells so that its first match shows with as much context as fits
    on either side (a leading … says text was cut before it), and the spans moved with it."""
    if len(text) <= width or not spans or width < 3:
        return fit(text, width, False), list(spans)
    first_start, first_end = spans[0]
    if first_end <= width - 1:  # already in view when cut from the start
        return fit(text, width, False), list(spans)
    room = width - 2  # the ellipses at both ends
    match = min(first_end - first_start, room)
    start = max(first_start - (room - match) // 2, 1)
    start = min(start, max(len(text) - (width - 1), 1))
    body = text[start:]
    shown = ELLIPSIS + fit(body, width - 1, False)
    moved = [(s - start + 1, e - start + 1) for s, e in spans if e - start + 1 > 1]
    return shown, [(max(s, 1), e) for s, e in moved]
