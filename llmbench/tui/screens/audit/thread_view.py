"""The whole thread of a call (F6, `h`): every call of its conversation (or, for a call in no
conversation, its trace) as steps in order, each under the step it was made in, with its own
tokens, cost and latency, the user's message (its image, audio and file parts named as the
detail names them, `[image 1024×768 png 182 KB]`) or the tool results it sent, its tool calls
(`→ name(arguments)`) and its answer. Enter opens a step in full; `/` filters the log to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from llmbench.tui.format import count, millis, model_label, money, one_line, timestamp
from llmbench.tui.screens.pushed import PushedScreen
from llmbench.tui.widgets.pane_footer import PaneFooter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from llmbench.core.audit.threads import Thread, ThreadStep
    from llmbench.services.audit.threads import ThreadView
    from llmbench.tui.app import LLMBenchApp

# How much of a message, a result or an answer one line shows (enter shows it all).
LINE_CHARS = 150


def thread_title(thread: Thread) -> str:
    steps = len(thread.steps)
    more = "+" if thread.truncated else ""
    parts = [
        f"{thread.kind.capitalize()} {thread.id}",
        f"{count(steps)}{more} step{'s' if steps != 1 else ''}",
    ]
    if thread.kind == "conversation" and thread.traces:
        parts.append(f"{len(thread.traces)} trace{'s' if len(thread.traces) != 1 else ''}")
    parts += [
        f"{count(thread.tool_call_count)} tool calls",
        f"{count(thread.tokens)} tokens",
        money(thread.cost),
        f"{millis(thread.latency_ms)} in calls",
    ]
    return "  ·  ".join(parts)


def step_text(step: ThreadStep, show_trace: bool = False, user_parts: Sequence[str] = ()) -> Text:
    """One step as the thread shows it: a head line with its figures, then what it added and
    what it answered, indented by its depth. `user_parts`: the user's message part by part,
    its media named, when it sent any."""
    pad = "   " * step.depth
    mark = "└─ " if step.depth else ""
    text = Text()
    text.append(f"{pad}{mark}#{step.id}", style="bold")
    attempt = f"  try {step.attempt}" if step.attempt > 1 else ""
    estimated = " (est.)" if step.tokens_estimated else ""
    text.append(
        f"  {timestamp(step.ts)}  {model_label(step.model)}{attempt}  ",
    )
    text.append(step.status, style="bold" if step.status == "ok" else "bold red")
    text.append(
        f"  ·  {count(step.prompt_tokens)} in, {count(step.completion_tokens)} out{estimated}"
        f"  ·  {money(step.cost)}  ·  {millis(step.latency_ms)}"
    )
    if show_trace and step.trace_id:
        text.append(f"  ·  trace {step.trace_id}", style="dim")
    body = pad + ("   " if step.depth else "") + "  "
    user = " ".join(part for part in user_parts if part) or step.user_text
    if user:
        text.append(f"\n{body}user: {one_line(user, LINE_CHARS)}")
    for result in step.tool_results:
        ident = f" [{result.call_id}]" if result.call_id else ""
        name = result.name or "tool"
        text.append(f"\n{body}← {name}{ident}: {one_line(result.content, LINE_CHARS)}")
    for call in step.tool_calls:
        ident = f"  [{call.id}]" if call.id else ""
        line = one_line(f"→ {call.name}({call.arguments})", LINE_CHARS)
        text.append(f"\n{body}{line}{ident}", style="bold")
    if step.response:
        text.append(f"\n{body}answer: {one_line(step.response, LINE_CHARS)}")
    if step.error:
        text.append(f"\n{body}error: {one_line(step.error, LINE_CHARS)}", style="red")
    return text


class ThreadScreen(PushedScreen["str | None"]):
    """Dismissed with a query for the log (`/`), or None."""

    BINDINGS = [
        Binding("escape,q", "close", "Back", id="thread_close"),
        Binding("slash", "filter", "Filter the log to it", id="thread_filter"),
    ]
    DEFAULT_CSS = """
    ThreadScreen {
        #thread-title { height: auto; padding: 0 1; text-style: bold; }
        #thread-steps { height: 1fr; }
    }
    """

    def __init__(self, call_id: int) -> None:
        super().__init__()
        self.call_id = call_id
        self.thread: Thread | None = None
        self.title = f"Thread of call #{call_id}"

    @property
    def bench(self) -> LLMBenchApp:
        return cast("LLMBenchApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading…", id="thread-title", markup=False)
        yield OptionList(id="thread-steps")
        yield PaneFooter()

    def on_mount(self) -> None:
        from llmbench.services.audit import threads

        store, call_id = self.bench.store, self.call_id

        def work() -> None:
            view = threads.read_thread_view(store, call_id)
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._show, view)

        self.run_worker(work, thread=True, exclusive=True, group="thread", name="read thread")

    def _show(self, view: ThreadView | None) -> None:
        title = self.query_one("#thread-title", Static)
        steps = self.query_one("#thread-steps", OptionList)
        if view is None:
            title.update(f"Call #{self.call_id} is in no conversation or trace.")
            return
        self.thread = thread = view.thread
        title.update(thread_title(thread))
        several = len(thread.traces) > 1
        steps.add_options(
            [
                Option(step_text(step, several, view.user_parts.get(step.id, ())), id=str(step.id))
                for step in thread.steps
            ]
        )
        ids = [step.id for step in thread.steps]
        if self.call_id in ids:
            steps.highlighted = ids.index(self.call_id)
        steps.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        from llmbench.tui.screens.audit.call_detail import CallDetailScreen

        if event.option.id is not None:
            self.app.push_screen(CallDetailScreen(int(event.option.id)))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_filter(self) -> None:
        if self.thread is None:
            return
        ident = self.thread.id.replace('"', "")
        self.dismiss(f'{self.thread.kind}:"{ident}"')
