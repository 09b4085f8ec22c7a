"""Jump mode (ctrl+o): a one-key label over everything the screen below can focus, and over
each of its tabs. Pressing a label jumps there; escape (or ctrl+o again) leaves.

The overlay is a transparent modal screen: the labels are drawn over the screen they label,
which stays visible and untouched underneath. A resize moves every widget, so it closes the
overlay rather than leave labels where widgets no longer are.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from llmbench.tui.jumper import JumpTarget


class JumpOverlay(ModalScreen["JumpTarget | None"]):
    """Dismissed with the target whose key was pressed, or None."""

    BINDINGS = [Binding("escape", "leave", "Leave jump mode", id="jump_leave")]

    DEFAULT_CSS = """
    JumpOverlay {
        background: $background 20%;
        .jump-label {
            position: absolute;
            width: 3;
            height: 1;
            content-align: center middle;
            background: $warning;
            color: $text-warning;
            text-style: bold;
        }
        #jump-hint {
            dock: bottom;
            width: 100%;
            height: 1;
            content-align: center middle;
            background: $warning-muted;
            color: $text;
        }
    }
    """

    def __init__(self, targets: list[JumpTarget]) -> None:
        super().__init__()
        self.targets = targets
        self.by_key = {target.key: target for target in targets}
        self._size_at_open: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        for target in self.targets:
            label = Static(target.key, classes="jump-label", markup=False)
            label.styles.offset = (target.offset.x, target.offset.y)
            yield label
        hint = (
            "Press a label to jump there · escape leaves"
            if self.targets
            else "Nothing here takes focus · escape leaves"
        )
        yield Static(hint, id="jump-hint", markup=False)

    def on_mount(self) -> None:
        self._size_at_open = (self.app.size.width, self.app.size.height)

    def on_key(self, event: events.Key) -> None:
        target = self.by_key.get(event.character or "")
        if target is not None:
            event.stop()
            event.prevent_default()
            self.dismiss(target)

    def on_resize(self, event: events.Resize) -> None:
        if self._size_at_open is not None and self._size_at_open != tuple(event.size):
            self.dismiss(None)

    def action_leave(self) -> None:
        self.dismiss(None)
