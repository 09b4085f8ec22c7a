"""What every pane shares: header and footer, reading its data in a thread, and an empty
state in place of a crash when the database has nothing to show yet.

The threading rule (harlequin's): database reads run in pool threads (each watched by a Textual
worker) that only post messages; widgets are touched on the main thread alone, so the first
frame never waits on SQLite. Panes import `llmbench.services.panes` inside the functions that
read: that module (and the store's queries) then loads in the reading thread, off the path to the
first frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker, active_worker

from llmbench.tui.screens.pushed import RestyledWhenChanged
from llmbench.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from llmbench.tui.app import LLMBenchApp

T = TypeVar("T")
LOADING_DELAY_S = 0.25


class Interruptible(Protocol):
    """What stops one read's SQL from another thread (`services.panes.interruptible`)."""

    def interrupt(self) -> None: ...

    def ended(self) -> None: ...


class DataRead(Message):
    """A worker finished reading; `apply` runs on the main thread with what it read."""

    def __init__(
        self, apply: Callable[[Any], None], payload: Any, read: tuple[str, int] | None = None
    ) -> None:
        super().__init__()
        self.apply = apply
        self.payload = payload
        self.read = read  # (group, number) of a replaceable read: only the newest is applied


class ReadFailed(Message):
    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class ActionFailed(Message):
    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class PaneScreen(RestyledWhenChanged, Screen[None], Generic[T]):
    """A pane: `fetch` runs in a worker thread, `show` puts the result on screen."""

    PANE_TITLE: ClassVar[str] = ""
    PALETTE: ClassVar[dict[str, str]] = {}
    """Pane actions the command palette offers from anywhere: binding id -> what it does (the
    binding's own description names it; the app switches to the pane, then runs it)."""
    EMPTY_TEXT: ClassVar[str] = "Nothing here yet."
    BINDINGS = [Binding("r", "reload", "Refresh", id="refresh")]

    DEFAULT_CSS = """
    PaneScreen {
        #pane-empty { display: none; }
        &.-empty {
            #pane-body { display: none; }
            #pane-empty { display: block; }
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.title = self.PANE_TITLE
        self.loaded = False
        """True once the first read of the pane's data has been shown."""
        self._resumed = False
        self._reads_started: dict[str, int] = {}
        self._reads: dict[str, Worker[None]] = {}
        """The newest read of each group."""
        self._in_flight: dict[Worker[None], Interruptible] = {}
        """The reads running their SQL, each with what stops it (written by the worker)."""
        self._stopped: set[str] = set()
        """Groups whose read was stopped as the pane was left: read again on the next visit."""

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.EMPTY_TEXT, id="pane-empty", classes="empty-state", markup=False)
        with Container(id="pane-body"):
            yield from self.compose_body()
        yield PaneFooter()

    # The three hooks every pane defines (Textual's metaclass rules out abc.abstractmethod).
    def compose_body(self) -> ComposeResult:
        raise TypeError(f"{type(self).__name__} must define compose_body()")

    def fetch(self) -> T:
        """Read the pane's data. Runs in a worker thread: no widgets here."""
        raise TypeError(f"{type(self).__name__} must define fetch()")

    def show(self, data: T) -> None:
        """Put freshly read data on screen (main thread)."""
        raise TypeError(f"{type(self).__name__} must define show()")

    def on_mount(self) -> None:
        # A slow first read shows a loading indicator; a fast one should not flash it.
        self.set_timer(LOADING_DELAY_S, self._show_loading)

    def _show_loading(self) -> None:
        if not self.loaded:
            self.query_one("#pane-body").loading = True

    @property
    def ready_to_show(self) -> bool:
        """Built, in front, and showing its data: the app shows a switch to this pane as soon
        as this holds, rather than after Textual's fixed hold of the frames."""
        return self._resumed and self.loaded

    def tell_if_ready(self) -> None:
        """Data just went on screen: if the pane is now `ready_to_show`, the app shows a switch
        to it now rather than at its next check."""
        if self.ready_to_show:
            ready = getattr(self.app, "pane_ready", None)
            if ready is not None:
                ready()

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Runs before Screen's own handler. Every widget was styled as it mounted, or when this
        # pane was last shown: restyling all of them again only redoes it (~5 ms on a first
        # visit) and, in a table, drops the lines it had drawn. Restyled when the CSS changed.
        self.keep_styles(self.app, event)
        if self._resumed:
            # The same visit: Textual resumes a mode's new screen twice (as the mode is made,
            # then as it is switched to). A second read would replace the first, started
            # moments ago, at the cost of a thread and the interpreter while the pane opens.
            return
        self._resumed = True
        # Every visit re-reads, so a pane never shows numbers older than the last switch.
        self.reload()
        stopped, self._stopped = self._stopped - {"pane"}, set()
        if stopped:
            self.read_again(stopped)

    def read_again(self, groups: set[str]) -> None:
        """Start again the reads of `groups` that were stopped as the pane was left and that
        `reload` does not start itself (the figures a pane reads beside its rows)."""

    def reading(self, group: str) -> bool:
        """Whether the newest read of `group` is under way (not done, failed or stopped)."""
        worker = self._reads.get(group)
        return worker is not None and not worker.is_finished

    def stop_reads(self) -> None:
        """The pane is being left: its reads give way to the pane shown next. Each one is
        cancelled (its result will not be applied) and its running SQL interrupted, so it no
        longer holds a core, a pool thread or the disk; the next visit reads again."""
        for group, worker in list(self._reads.items()):
            if not worker.is_finished:
                worker.cancel()
                self._stopped.add(group)
        for handle in list(self._in_flight.values()):
            handle.interrupt()

    def on_unmount(self) -> None:
        # The app is quitting: its reads stop now rather than hold the quit (and the store's
        # close, which waits for them) until they end.
        self.stop_reads()

    def on_screen_suspend(self) -> None:
        self._resumed = False

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.read_in_thread(self.fetch, self._show_pane, group="pane")

    def read_in_thread(
        self,
        read: Callable[[], Any],
        apply: Callable[[Any], None],
        *,
        group: str,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """Run `read` in a pool thread (a newer read of the same group replaces an older one)
        and hand its result to `apply` on the main thread; a failure goes to `failed` if given,
        else it is told and, before the pane's first data, shown in its place.

        The thread starts now. A Textual thread worker would start it only once the worker's
        task comes up in the event loop, behind every message queued before it (a pane being
        mounted: 10-30 ms). The read is still a worker, one that waits for the thread, so
        cancelling it, `app.workers` and the tests' wait for idle see it as before."""

        number = self._reads_started.get(group, 0) + 1
        self._reads_started[group] = number
        replaced = self._reads.get(group)
        if replaced is not None and not replaced.is_finished:
            # Stopped now rather than left to finish a result nobody will see.
            replaced.cancel()
            handle = self._in_flight.get(replaced)
            if handle is not None:
                handle.interrupt()
        thread: list[asyncio.Future[None]] = []
        submitted = asyncio.Event()

        async def until_read() -> None:
            # Python 3.12 may start the worker's task at once (eagerly), before the thread
            # below is submitted: it waits for that first.
            await submitted.wait()
            await thread[0]

        worker: Worker[None] = self.run_worker(
            until_read, exclusive=True, group=group, name=f"read {group}"
        )
        self._reads[group] = worker

        def work() -> None:
            # As in a thread worker: the read may ask get_current_worker() whether it was stopped.
            current = active_worker.set(worker)
            handle = self._interruptible()
            if handle is not None:
                self._in_flight[worker] = handle
            try:
                if worker.is_cancelled:  # stopped before it started (checked once registered)
                    return
                payload = read()
            except Exception as error:  # a failed read must show, never kill the app
                if not worker.is_cancelled:  # a stopped read ends in "interrupted": not a failure
                    told = f"{type(error).__name__}: {error}"
                    if failed is not None:
                        self.post_message(DataRead(failed, told, (group, number)))
                    else:
                        self.post_message(ReadFailed(self.PANE_TITLE, told))
                return
            finally:
                if handle is not None:
                    handle.ended()
                    self._in_flight.pop(worker, None)
                active_worker.reset(current)
            if not worker.is_cancelled:
                self.post_message(DataRead(apply, payload, (group, number)))

        # The loop's default pool: the app widens it (pane_switch.WORKER_THREADS).
        thread.append(asyncio.get_running_loop().run_in_executor(None, work))
        submitted.set()

    def _interruptible(self) -> Interruptible | None:
        """In the worker: the handle that lets `stop_reads` interrupt this thread's SQL."""
        from llmbench.services.panes import interruptible

        try:
            return interruptible(self.bench.store)
        except Exception:  # no store (a demo still building) or closed: nothing to interrupt
            return None

    def act_in_thread(
        self, act: Callable[[], Any], apply: Callable[[Any], None], *, what: str
    ) -> None:
        """Run a write (`act`) in a thread worker; hand its result to `apply`, or show why it
        was refused. Writes never replace each other: each one the user asked for runs."""

        def work() -> None:
            try:
                payload = act()
            except Exception as error:  # a refused or failed write is told, never fatal
                self.post_message(ActionFailed(what, str(error) or type(error).__name__))
                return
            self.post_message(DataRead(apply, payload))

        self.run_worker(work, thread=True, group="act", name=what)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.error, title=f"{message.what}: not done", severity="error")

    def on_data_read(self, message: DataRead) -> None:
        # A replaced read can pass its cancelled check just before the newer one starts and
        # post after it: counting reads on this thread is what makes "newest wins" certain.
        if message.read is not None:
            group, number = message.read
            if number != self._reads_started.get(group):
                return
        message.apply(message.payload)

    def on_read_failed(self, message: ReadFailed) -> None:
        title = f"{message.what}: cannot read the database"
        self.notify(message.error, title=title, severity="error")
        if not self.loaded:
            self.query_one("#pane-body").loading = False
            self.set_empty(True, f"{title}.\n\n{message.error}\n\nPress r to try again.")

    def _show_pane(self, data: T) -> None:
        self.show(data)
        if not self.loaded:
            # Once this data is painted: the threads it starts would otherwise hold the
            # interpreter while the frame that shows the data is drawn.
            self.call_after_refresh(self.bench.import_panes)
            self.loaded = True
            self.query_one("#pane-body").loading = False
            if self.focused is None:
                self.focus_next()
            self.tell_if_ready()

    def set_empty(self, empty: bool, text: str | None = None) -> None:
        if text is not None:
            self.query_one("#pane-empty", Static).update(text)
        self.set_class(empty, "-empty")
