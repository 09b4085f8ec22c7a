"""How a pane's code is loaded: its screen built on its first visit, and every pane's modules,
then the modules its screens and dialogs open with, imported in a thread once the first pane's
data is on screen."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from llmbench.tui.app import Pane

# What the panes' first reads import in their workers, beside the screens themselves.
PANE_SERVICES = (
    "llmbench.services.audit.browser",
    "llmbench.services.costs.pane",
    "llmbench.services.models.catalog",
    "llmbench.services.monitoring.health",
    "llmbench.services.panes",
)
# What a key imports on the UI thread as it first opens a screen, a dialog or a pane's view
# (found by listing the modules each opening of bench_keys.py loads): imported here, they no
# longer hold the frame that shows the opening (the editor's 80 modules, jinja2 and tiktoken
# among them: ~90 ms; Compare's scoreboard: ~400 ms; F1, ctrl+o, F5's plots: 20-60 ms each).
# Most often opened first.
OPENED_MODULES = (
    "llmbench.tui.screens.prompts.editor",
    "llmbench.services.prompts.library",
    "llmbench.services.prompts.draft_text",
    "llmbench.services.drafts",
    "llmbench.tui.widgets.preview_view",
    "llmbench.core.tokens",  # tiktoken (~90 ms), for the editor's preview
    "llmbench.tui.screens.help",
    "llmbench.tui.commands",
    "llmbench.tui.jumper",
    "llmbench.tui.widgets.jump_overlay",
    "llmbench.tui.screens.dialogs",
    "llmbench.tui.screens.prompts.forms",
    "llmbench.tui.screens.prompts.guard_dialog",
    "llmbench.tui.screens.prompts.prompt_files",
    "llmbench.services.evaluation.engine",
    "llmbench.tui.screens.compare.run",
    "llmbench.tui.screens.compare.report",
    "llmbench.tui.screens.compare.new_run",
    "llmbench.tui.screens.compare.output_diff",
    "llmbench.tui.screens.grade.session",
    "llmbench.tui.screens.grade.agreement",
    "llmbench.tui.widgets.costs_plots",
    "llmbench.services.costs.trends",
    "llmbench.services.costs.savings",
    "llmbench.tui.screens.audit.call_detail",
    "llmbench.tui.screens.audit.thread_view",
    "llmbench.tui.screens.models_routes",
)


def import_panes(
    panes: Iterable[Pane],
    pause: Callable[[], None] = lambda: None,
    still: Callable[[], None] = lambda: None,
) -> None:
    """Import every pane's modules, then what their screens open with; before each, `pause`
    waits while a pane is being opened (an import holds the interpreter, and the module lock
    the opening pane may need), and before each of the latter `still` waits for a moment
    without keys (an import already under way cannot yield: the editor's alone is ~90 ms)."""
    global _frozen
    for name in (*(f"llmbench.tui.screens.{pane.module}" for pane in panes), *PANE_SERVICES):
        pause()
        importlib.import_module(name)
    for name in OPENED_MODULES:
        still()
        pause()
        importlib.import_module(name)
    if not _frozen:
        # What is loaded by now (these modules: ~100,000 objects; the first pane) lives as long
        # as the process. Left to the cyclic collector, each of its full passes walked it all
        # again: 100-300 ms, in the middle of whichever key was being answered (issue 23).
        # Frozen, it is left out of every collection, as LLMBenchApp.run does with what start
        # loaded and litellm_setup with litellm. Once per process (tests run many apps).
        _frozen = True
        gc.freeze()


_frozen = False


def screen_factory(pane: Pane) -> Callable[[], Screen]:
    def make() -> Screen:
        screen: Screen = screen_class_of(pane)()
        # A new screen is styled from the current stylesheet as it mounts, yet Textual takes its
        # "never styled" count (-1) for stale CSS and re-parses every stylesheet, twice, when it
        # starts a mode (~20 ms). Nothing can be stale in a screen that does not exist yet.
        screen._css_update_count = screen.app._css_update_count
        return screen

    return make


def screen_class_of(pane: Pane) -> type[Screen]:
    module = importlib.import_module(f"llmbench.tui.screens.{pane.module}")
    screen_class: type[Screen] = getattr(module, pane.screen_class)
    return screen_class
