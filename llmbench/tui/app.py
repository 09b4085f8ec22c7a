"""LLMBenchApp: six panes as Textual modes, the keys that reach them, themes and the keymap.

No business logic lives here. Only the first pane's module is imported before the first frame;
the others load when first shown, so start-up stays close to an empty Textual app.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual.app import SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen

from llmbench.config import Settings
from llmbench.tui.pane_loading import import_panes, screen_factory
from llmbench.tui.pane_loading import screen_class_of as screen_class_of  # commands.py's
from llmbench.tui.pane_switch import SwitchesWhenReady

if TYPE_CHECKING:
    from llmbench.services.drafts import DraftKeeper
    from llmbench.services.write_health import WriteWatch
    from llmbench.store.db import Store
    from llmbench.tui.screens.demo_build import DemoBuild
    from llmbench.tui.screens.dialogs import QuitAnswer, Unsaved
    from llmbench.tui.screens.help import KeyHelp

DEFAULT_THEME = "textual-dark"
GC_PAUSE_S = 2.0
"""The longest the cyclic collector stays paused at start, waiting for the first pane's data."""
QUIT_WAIT_S = 5.0
"""How long quitting waits for the last drafts to reach the file (a busy disk, a lock)."""


class HoldsWork(Protocol):
    """A screen with work that is not saved for real: typed text (kept as drafts meanwhile) or
    something running. It registers with `LLMBenchApp.hold_work` while mounted, and ctrl+q asks
    before quitting while any of them has work."""

    def unsaved_work(self) -> list[Unsaved]: ...

    def keep_drafts(self) -> None:
        """Hand whatever is typed to the draft keeper now (not after the typing pause)."""

    def discard_drafts(self) -> None:
        """The user chose to throw the work away: delete its drafts."""


class WritesChanged(Message):
    """The database started (`problem`: why) or stopped (None) refusing writes."""

    def __init__(self, problem: str | None) -> None:
        super().__init__()
        self.problem = problem


@dataclass(frozen=True)
class Pane:
    mode: str
    title: str
    key: str
    summary: str
    module: str
    screen_class: str

    @property
    def binding_id(self) -> str:
        return f"show_{self.mode}"


PANES: tuple[Pane, ...] = (
    Pane("prompts", "Prompts", "f2", "Prompts, versions and labels", "prompts.pane",
         "PromptsScreen"),
    Pane("compare", "Compare", "f3", "Runs and pass rates per version × model", "compare.pane",
         "CompareScreen"),
    Pane("grade", "Grade", "f4", "Grading queue per rubric", "grade.pane", "GradeScreen"),
    Pane("costs", "Costs", "f5", "Spend over the last 30 days", "costs", "CostsScreen"),
    Pane("audit", "Audit", "f6", "The latest calls in the audit log", "audit.pane", "AuditScreen"),
    Pane("monitor", "Monitor", "f7", "Health per model, drift alerts, retention", "monitor",
         "MonitorScreen"),
    Pane("models", "Models", "f8", "Context windows, prices, support, licences, measured figures",
         "models", "ModelsScreen"),
)  # fmt: skip
PANES_BY_MODE = {pane.mode: pane for pane in PANES}


def _default_label(path: Path) -> str:
    home = Path.home()
    try:
        return "~/" + str(path.resolve().relative_to(home))
    except ValueError:
        return str(path)


class LLMBenchApp(SwitchesWhenReady):
    CSS_PATH = "app.tcss"
    TITLE = "llmbench"
    # The first pane is the default screen rather than an entry of MODES: Textual re-parses every
    # stylesheet when it starts a mode from MODES, and the first frame should not pay for that.
    # on_mount registers it as a mode once its stack exists.
    MODES = {pane.mode: screen_factory(pane) for pane in PANES[1:]}
    DEFAULT_MODE = PANES[0].mode

    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        # Priority: a pane's key switches panes from anywhere, a text area included (TextArea
        # binds F6 and F7 to selecting text).
        *(
            Binding(
                pane.key, f"show_pane('{pane.mode}')", pane.title, id=pane.binding_id, priority=True
            )
            for pane in PANES
        ),
        Binding("ctrl+o", "jump", "Jump", show=False, id="jump", priority=True),
        Binding(
            "ctrl+p", "command_palette", "Palette", show=False, id="command_palette", priority=True
        ),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    def __init__(
        self,
        store: Store | None,
        settings: Settings,
        *,
        db_label: str | None = None,
        clock: Callable[[], datetime] | None = None,
        demo_build: DemoBuild | None = None,
    ) -> None:
        """`store` is None only with a `demo_build`: the app opens on the build's progress and
        shows the panes once the demo is built (`open_panes`)."""
        super().__init__()
        if store is None and demo_build is None:
            raise ValueError("LLMBenchApp needs a store, or a demo to build")
        self._store = store
        self._demo_build = demo_build
        self.settings = settings
        path = store.path if store is not None else demo_build.path  # type: ignore[union-attr]
        self.db_label = db_label or _default_label(path)
        self._clock = clock
        self._panes_imported = False
        self._first_pane: Screen | None = None
        self.write_problem: str | None = None
        """Why the database refuses writes, while it does: the banner on every screen says it."""
        self._write_watch: WriteWatch | None = None
        self._banner_mounted = False
        self._drafts: DraftKeeper | None = None
        self._work_holders: list[HoldsWork] = []
        self.sub_title = f"llmbench — {self.db_label}"
        self._theme_problem: str | None = None
        wanted_theme = settings.general.theme or DEFAULT_THEME
        if wanted_theme in self.available_themes:
            self.theme = wanted_theme
        else:
            self._theme_problem = (
                f"Unknown theme {wanted_theme!r} in the config; using {DEFAULT_THEME}. "
                "ctrl+p → Theme lists the installed ones."
            )
            self.theme = DEFAULT_THEME
        self.set_keymap(dict(settings.keymap))

    def run(self, *args: Any, **kwargs: Any) -> None:
        # What is loaded by now (modules, settings, this app) lives as long as the process:
        # frozen, the cyclic collector no longer walks it (a ~15 ms pause mid-frame otherwise).
        gc.freeze()
        if self._store is not None:
            # So does most of what the first pane builds: the collector pauses until its data
            # is on screen (import_panes), GC_PAUSE_S at most (a failed or slow first read).
            gc.disable()
            self._first_pane = self._build_first_pane()
        try:
            return super().run(*args, **kwargs)
        finally:
            gc.enable()

    def _build_first_pane(self) -> Screen | None:
        """The first pane, built before Textual sets up the terminal, so that its first read
        (`read_ahead.py`) runs meanwhile and is done when the pane is shown: a read still under
        way then would cost a frame without the data."""
        try:
            with self._context():  # the read ahead finds this app as it does once it runs
                return screen_factory(PANES[0])()
        except Exception:  # built again as the app starts, which reports it as Textual does
            return None

    def now(self) -> datetime:
        """The time panes measure windows to (tests and screenshots pin it)."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    @property
    def reviewer(self) -> str:
        return self.settings.general.reviewer

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the demo database is still being built")
        return self._store

    @property
    def building(self) -> bool:
        """True while the first `llmbench demo` builds its database (no pane exists yet)."""
        return self._store is None

    def get_default_screen(self) -> Screen:
        if self._store is None and self._demo_build is not None:
            from llmbench.tui.screens.demo_build import DemoBuildScreen

            return DemoBuildScreen(self._demo_build)
        screen, self._first_pane = self._first_pane, None
        if screen is None:
            return screen_factory(PANES[0])()
        screen._css_update_count = self._css_update_count  # as screen_factory does, now
        return screen

    def on_mount(self) -> None:
        self.add_mode(PANES[0].mode, screen_factory(PANES[0]))
        if not gc.isenabled():  # paused by run() (and the CLI's start) for the first frame
            self.set_timer(GC_PAUSE_S, gc.enable, name="collector paused")
        if self._theme_problem:
            self.notify(self._theme_problem, severity="warning")
        if self._store is not None:
            self._watch_writes()

    def open_panes(self, store: Store, summary: str) -> None:
        """The demo is built and `store` open on it: the first pane replaces the build's
        progress, and every pane key works from now on."""
        self._store = store
        self._watch_writes()
        self.switch_screen(screen_factory(PANES[0])())
        self.notify(summary, title="Demo database built", timeout=6)

    # -- the banner while the database refuses writes ------------------------------------------
    def _watch_writes(self) -> None:
        from llmbench.services.write_health import WriteWatch

        self._write_watch = WriteWatch(
            self.store, lambda problem: self.post_message(WritesChanged(problem))
        )
        self._write_watch.start()
        self.screen_change_signal.subscribe(self, self._place_write_banner)
        if self.store.read_only:
            # Known before any write is tried, and for the whole session (SQLite keeps the file
            # read-only while it is open): said on the first frame, not after a refused change.
            self.write_problem = (
                f"opened read-only: {self.store.path} cannot be written here (the file or its "
                "folder is not writable). Make it writable and restart llmbench, or work on a "
                "copy (--db)"
            )
            self._place_write_banner(self.screen)

    def _probe_writes(self) -> None:
        if self._write_watch is not None:
            self.run_worker(self._write_watch.probe, thread=True, group="write-probe")

    def on_writes_changed(self, message: WritesChanged) -> None:
        if self.store.read_only:
            return  # the notice said at open stays: nothing changes until a restart
        self.write_problem = message.problem
        self._place_write_banner(self.screen)

    def _place_write_banner(self, screen: Screen[Any]) -> None:
        if self.write_problem is None and not self._banner_mounted:
            return  # the usual case: nothing to look for on a pane switch
        from llmbench.tui.widgets.write_banner import show_on

        self._banner_mounted = True
        show_on(screen, self.write_problem)

    def on_unmount(self) -> None:
        if self._drafts is not None:
            self._drafts.close()  # queued ahead of the store's close, which drains its writer
        if self._write_watch is not None:
            self._write_watch.stop()

    # -- drafts and quitting ---------------------------------------------------------------------
    @property
    def drafts(self) -> DraftKeeper:
        """Where screens keep what is being typed (written while typing pauses)."""
        if self._drafts is None:
            from llmbench.services.drafts import DraftKeeper

            self._drafts = DraftKeeper(self.store)
        return self._drafts

    def hold_work(self, holder: HoldsWork) -> None:
        if holder not in self._work_holders:
            self._work_holders.append(holder)

    def release_work(self, holder: HoldsWork) -> None:
        if holder in self._work_holders:
            self._work_holders.remove(holder)

    def unsaved_work(self) -> list[Unsaved]:
        return [item for holder in list(self._work_holders) for item in holder.unsaved_work()]

    async def action_quit(self) -> None:
        """ctrl+q: quit at once when nothing is unsaved or running; otherwise ask first. Every
        draft is on disk before the app exits, whatever the answer."""
        from llmbench.tui.screens.dialogs import QuitDialog

        if self.building:
            from llmbench.tui.screens.demo_build import stop_and_quit

            stop_and_quit(self)
            return
        if isinstance(self.screen, QuitDialog):
            return
        work = self.unsaved_work()
        if not work:
            self._quit("keep")
            return
        self.push_screen(QuitDialog(work), self._quit)

    def _quit(self, answer: QuitAnswer | None) -> None:
        if answer is None or answer == "cancel":
            return
        for holder in list(self._work_holders):
            if answer == "discard":
                holder.discard_drafts()
            else:
                holder.keep_drafts()
        if self._drafts is None:
            self.exit()
            return
        writes = self._drafts.close()

        def wait_then_exit() -> None:
            from concurrent.futures import wait

            wait(writes, timeout=QUIT_WAIT_S)
            self.call_from_thread(self.exit)

        self.run_worker(wait_then_exit, thread=True, group="quit", name="keep drafts")

    def _warn_about_key_storage(self) -> None:
        self.yield_to_switch()  # loading keyring holds the interpreter ~150 ms
        from llmbench.services.key_storage import key_storage_notice_once

        notice = key_storage_notice_once(self.store)  # once per database, not every start
        if notice:
            self.call_from_thread(self.notify, notice, severity="warning", timeout=10)

    def format_title(self, title: str, sub_title: str) -> Content:
        # "Costs · llmbench — ~/data/llmbench.db": the pane first, then which file it shows.
        if not sub_title:
            return Content(title)
        return Content.assemble((title, "bold"), ("  ·  ", "dim"), (sub_title, "dim"))

    def import_panes(self) -> None:
        """Import every pane's code in a thread, once the first pane is on screen: the first
        visit of another pane then starts it without first loading its modules (~20–100 ms).
        Nothing is read or built ahead; each pane still does all its work when opened."""
        if not self._panes_imported:
            self._panes_imported = True
            gc.enable()  # paused by run() (and the CLI's start) for the first frame
            self.run_worker(
                lambda: import_panes(PANES, self.yield_to_switch, self.wait_until_still),
                thread=True,
                group="import-panes",
            )
            # Off the first frame's path too; a read-only file is told before any change.
            self._probe_writes()
            # Loading keyring's backends takes ~150 ms of the interpreter (and D-Bus may be
            # slow): after the first pane's data, not competing with its read for the GIL.
            self.run_worker(self._warn_about_key_storage, thread=True, group="key-storage")

    def action_show_pane(self, mode: str) -> None:
        pane = PANES_BY_MODE.get(mode)
        if pane is None or self._refused_while_building():
            return
        if not isinstance(self.screen, ModalScreen):
            self.switch_mode(mode)  # the usual case: at once
            return

        async def leave_then_show() -> None:
            if await self.leave_dialogs(pane):
                self.switch_mode(mode)

        self.call_later(leave_then_show)

    def _refused_while_building(self) -> bool:
        if self.building:
            self.notify(
                "The panes open as soon as the demo is built (ctrl+q stops it).",
                title="Building the demo",
            )
        return self.building

    async def leave_dialogs(self, pane: Pane) -> bool:
        """Before switching to `pane`: close the dialogs open over this pane, or refuse while
        one holds typed input (`dialogs.leave_dialogs`)."""
        from llmbench.tui.screens.dialogs import leave_dialogs

        keys = self.settings.keymap.get(pane.binding_id, pane.key).upper()
        return await leave_dialogs(self, f"then {keys} opens {pane.title}")

    def action_jump(self) -> None:
        """ctrl+o: label everything the screen shows that takes focus; a label's key goes there."""
        from llmbench.tui.jumper import JumpTarget, jump_targets, jump_to
        from llmbench.tui.widgets.jump_overlay import JumpOverlay

        if isinstance(self.screen, JumpOverlay):
            self.screen.dismiss(None)
            return

        def jumped(target: JumpTarget | None) -> None:
            if target is not None:
                jump_to(target)

        self.push_screen(JumpOverlay(jump_targets(self.screen)), jumped)

    def action_help(self) -> None:
        from llmbench.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        pane = PANES_BY_MODE.get(self.current_mode)
        title = pane.title if pane else self.screen.title or "llmbench"
        self.push_screen(HelpScreen(title, self.keys_of(self.screen)))

    def keys_of(self, screen: Screen) -> list[KeyHelp]:
        """Every active key of `screen` — its own and its widgets' first, then global ones —
        after the user's keymap is applied."""
        from llmbench.tui.commands import keys_of

        return keys_of(self, screen)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from llmbench.tui.commands import system_commands

        yield from system_commands(self, screen, super().get_system_commands(screen))

    def _pane_action_commands(self) -> Iterable[SystemCommand]:
        from llmbench.tui.commands import pane_action_commands

        return pane_action_commands(self)

    def run_on_pane(self, mode: str, action: str) -> None:
        """Switch to a pane and run one of its actions once it is in front."""

        async def switch_then_act() -> None:
            pane = PANES_BY_MODE[mode]
            if self._refused_while_building() or not await self.leave_dialogs(pane):
                return
            if self.current_mode != mode:
                await self.switch_mode(mode)
            await self.screen.run_action(action)

        self.call_later(switch_then_act)
