"""The first `llmbench demo`: the TUI opens at once on this screen, which builds the demo
database in a thread worker, shows how far it got, and then opens the panes on it.

The build itself is handed over by the CLI (`DemoBuild.run`: the TUI does not import the demo
package) and is all or nothing: it writes a temporary file beside the target and renames it
into place only once complete. ctrl+q or ctrl+c while it runs stops it at its next progress
report, which removes the temporary file, then quits: no half-built demo is left behind, and
the next `llmbench demo` builds it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, ProgressBar, Static

if TYPE_CHECKING:
    from llmbench.store.db import Store
    from llmbench.tui.app import LLMBenchApp

Progress = Callable[[int, int], None]


class BuildStopped(Exception):
    """Raised from the progress callback once the user asked to stop: the build unwinds and
    removes what it wrote so far."""


@dataclass(frozen=True)
class DemoBuild:
    path: Path
    calls: int
    run: Callable[[Progress], str]
    """Builds the demo at `path`, calling progress(done, total) as it goes (from the worker
    thread and the store's writer thread); returns what was built, in words."""


class BuildProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class BuildEnded(Message):
    """The build finished (`store` open on it), stopped, or failed (`error`)."""

    def __init__(
        self, store: Store | None = None, summary: str = "", error: str | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.summary = summary
        self.error = error


class DemoBuildScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+c", "stop", "Stop and quit", id="demo_build_stop"),
    ]
    DEFAULT_CSS = """
    DemoBuildScreen {
        align: center middle;
        #demo-build-box {
            width: 72;
            max-width: 95%;
            height: auto;
            border: round $accent;
            background: $surface;
            padding: 1 2;
        }
        #demo-build-title { text-style: bold; padding-bottom: 1; }
        #demo-build-bar { padding-bottom: 1; }
        #demo-build-phase { color: $text-muted; }
        #demo-build-hint { color: $text-muted; padding-top: 1; }
        &.-failed #demo-build-phase { color: $text-error; }
    }
    """

    def __init__(self, build: DemoBuild) -> None:
        super().__init__()
        self.build = build
        self.title = "Building the demo"
        self.stopping = threading.Event()
        self.quit_when_done = False
        self.done = 0
        """Calls generated and written so far, as the build last reported them."""
        self.running = False

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="demo-build-box"):
            yield Static(
                f"Building the demo database: {self.build.calls:,} calls over 30 days, "
                "prompts, runs and grades (offline, no API key)",
                id="demo-build-title",
                markup=False,
            )
            yield ProgressBar(total=None, show_eta=False, id="demo-build-bar")
            yield Static("Generating the calls…", id="demo-build-phase", markup=False)
            yield Static(
                f"{self.build.path}\nThe panes open as soon as it is built. ctrl+q stops the "
                "build and quits: nothing half-built is kept, and `llmbench demo` starts over.",
                id="demo-build-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        # The first screen was never pushed; the panes replace it (switch_screen) and
        # Textual then pops its result callback: give it one to pop.
        self._push_result_callback(self, None)
        self.running = True
        # Once the first frame is drawn: the build's imports would hold the interpreter.
        self.call_after_refresh(
            self.run_worker, self._build, thread=True, group="demo-build", name="build the demo"
        )

    def on_unmount(self) -> None:
        # However the app ends (ctrl+q, an error, a signal), a build still running stops at
        # its next report and removes its file: it never completes behind a closed app.
        self.stopping.set()

    def _build(self) -> None:
        def progress(done: int, total: int) -> None:
            if self.stopping.is_set():
                raise BuildStopped
            self.post_message(BuildProgress(done, total))

        try:
            summary = self.build.run(progress)
        except BuildStopped:
            self.post_message(BuildEnded(error=None))
            return
        except Exception as error:  # told on the screen, never a traceback
            self.post_message(BuildEnded(error=f"{type(error).__name__}: {error}"))
            return
        if self.stopping.is_set():  # stopped after its last report: built all the same
            self.post_message(BuildEnded(summary=summary))
            return
        from llmbench.services.database import open_store

        try:
            store = open_store(self.build.path, create=False)
        except Exception as error:
            self.post_message(BuildEnded(error=f"{type(error).__name__}: {error}"))
            return
        self.post_message(BuildEnded(store=store, summary=summary))

    def on_build_progress(self, message: BuildProgress) -> None:
        self.done = message.done
        bar = self.query_one("#demo-build-bar", ProgressBar)
        bar.update(total=message.total, progress=message.done)
        phase = "Generating the calls…" if message.done < message.total // 2 else "Writing…"
        self.query_one("#demo-build-phase", Static).update(phase)

    def on_build_ended(self, message: BuildEnded) -> None:
        self.running = False
        if self.quit_when_done or (message.error is None and message.store is None):
            if message.store is not None:
                message.store.close()
            self.app.exit()
            return
        if message.error is not None:
            self.add_class("-failed")
            self.query_one("#demo-build-phase", Static).update(
                f"The demo could not be built: {message.error}\nNothing was kept. ctrl+q quits."
            )
            return
        assert message.store is not None
        while self.app.screen is not self:  # F1's help or the palette, opened meanwhile
            self.app.pop_screen()
        self.bench.open_panes(message.store, message.summary)

    def action_stop(self) -> None:
        self.stop_and_quit()

    def stop_and_quit(self) -> None:
        """Stop the build at its next progress report (what it wrote is removed), then quit."""
        if not self.running:
            self.app.exit()
            return
        self.quit_when_done = True
        self.stopping.set()
        self.query_one("#demo-build-phase", Static).update(
            "Stopping: removing the unfinished file…"
        )


def stop_and_quit(app: App[Any]) -> None:
    """ctrl+q while the demo builds: stop the build (nothing half-built is kept), then quit."""
    for screen in app.screen_stack:
        if isinstance(screen, DemoBuildScreen):
            screen.stop_and_quit()
            return
    app.exit()
