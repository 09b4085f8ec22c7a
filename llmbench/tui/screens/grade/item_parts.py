"""What the grading screen shows besides its own layout: an item's input, output, expected
answer and checks as styled parts, durations as people read them, and the `?` screen with
every dimension's anchored levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from llmbench.services.grading.queues import ItemBody, Queue

Part = Content | tuple[str, str] | str


def text_of(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def io_parts(body: ItemBody, *, blind: bool) -> list[Part]:
    parts: list[Part] = []
    if body.guard_flags:
        # What the guards found on the call that produced this output (details in F6).
        parts += [("⚑ guard  ", "bold $warning"), ", ".join(body.guard_flags), "\n\n"]
    parts += [("INPUT", "bold $text-accent"), "\n"]
    for name, value in body.inputs.items():
        parts += [(f"{name}: ", "dim"), text_of(value), "\n"]
    parts += ["\n", ("OUTPUT", "bold $text-accent"), "\n", body.output, "\n"]
    if body.expected:
        parts += ["\n", ("EXPECTED", "bold $text-accent"), "\n", body.expected, "\n"]
    checks = [c for c in body.checks if not (blind and c[0].startswith("judge"))]
    if checks:
        parts += ["\n", ("CHECKS", "bold $text-accent"), "\n"]
        for kind, passed, detail in checks:
            parts += [("✓ " if passed else "✗ ", "$success" if passed else "$error"), kind]
            parts += [(f"  {detail}", "dim") if detail else "", "\n"]
    return parts


def duration(minutes: float) -> str:
    if minutes < 1:
        return f"{max(round(minutes * 60), 1)} s"
    if minutes < 90:
        return f"{round(minutes)} min"
    return f"{minutes / 60:.1f} h"


class AnchorsScreen(ModalScreen[None]):
    """`?`: every dimension's levels with their keys and anchored examples."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="anchors_close"),
    ]
    DEFAULT_CSS = """
    AnchorsScreen { align: center middle; }
    AnchorsScreen > VerticalScroll {
        width: 90%; height: 80%; border: tall $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, queue: Queue) -> None:
        super().__init__()
        self.rubric_queue = queue

    def compose(self) -> ComposeResult:
        rubric = self.rubric_queue.rubric
        parts: list[Part] = [(f"{rubric.name}", "bold"), "\n"]
        if rubric.description:
            parts += [(rubric.description, "italic"), "\n"]
        for dimension in rubric.dimensions:
            parts += ["\n", (dimension.name.upper(), "bold $text-accent")]
            parts += [(f"  {dimension.description}", "dim"), "\n"]
            for level in dimension.levels:
                parts += [(f" {level.key} ", "bold reverse"), f" {level.label}\n"]
                if level.example:
                    parts += [(f"     e.g. {level.example}", "dim"), "\n"]
        parts += ["\n", ("y pass · n fail · escape closes", "dim")]
        with VerticalScroll():
            yield Static(Content.assemble(*parts), id="anchors-text")

    def action_close(self) -> None:
        self.dismiss(None)
