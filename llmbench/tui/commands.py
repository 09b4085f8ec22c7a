"""What the command palette offers and F1 lists: every pane, each pane's palette actions
(its PALETTE), and every active key of a screen with its binding id, after the keymap."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

if TYPE_CHECKING:
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.help import KeyHelp


def keys_of(app: LLMBenchApp, screen: Screen) -> list[KeyHelp]:
    """Every active key of `screen` — its own and its widgets' first, then global ones —
    after the user's keymap is applied."""
    from llmbench.tui.screens.help import KeyHelp

    pane_keys: list[KeyHelp] = []
    widget_keys: list[KeyHelp] = []
    global_keys: list[KeyHelp] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system:
            continue
        if active.node is app:
            scope, keys = "everywhere", global_keys
        elif active.node is screen:
            scope, keys = "pane", pane_keys
        else:
            scope, keys = type(active.node).__name__, widget_keys
        keys.append(
            KeyHelp(
                key=app.get_key_display(binding),
                description=binding.description or binding.action.replace("_", " "),
                binding_id=binding.id,
                scope=scope,
            )
        )
    return pane_keys + widget_keys + global_keys


def system_commands(
    app: LLMBenchApp, screen: Screen, textual_commands: Iterable[SystemCommand]
) -> Iterable[SystemCommand]:
    """Every pane, every pane's palette actions, Help, then Textual's own commands."""
    from llmbench.tui.app import PANES

    for pane in PANES:
        keys = app.settings.keymap.get(pane.binding_id, pane.key)
        yield SystemCommand(
            pane.title,
            f"{pane.summary} ({keys.upper()})",
            partial(app.action_show_pane, pane.mode),
        )
    yield from pane_action_commands(app)
    yield SystemCommand("Help", "Every key of this pane and its binding id (F1)", app.action_help)
    for command in textual_commands:
        # Our F1 help lists the same keys with their ids; one way in is enough.
        if command.title != "Keys":
            yield command


def pane_action_commands(app: LLMBenchApp) -> Iterable[SystemCommand]:
    """What each pane offers the palette (its PALETTE: binding id -> what it does), as
    "<pane>: <action>" commands that switch to the pane and do it there."""
    from llmbench.tui.app import PANES, screen_class_of

    for pane in PANES:
        screen_class = screen_class_of(pane)
        bindings = {
            binding.id: binding
            for cls in screen_class.__mro__
            for binding in cls.__dict__.get("BINDINGS", ())
            if isinstance(binding, Binding) and binding.id
        }
        for binding_id, what in getattr(screen_class, "PALETTE", {}).items():
            binding = bindings[binding_id]
            keys = app.settings.keymap.get(binding_id, binding.key)
            yield SystemCommand(
                f"{pane.title}: {binding.description}",
                f"{what} ({keys}, {pane.key.upper()})",
                partial(app.run_on_pane, pane.mode, binding.action),
            )
