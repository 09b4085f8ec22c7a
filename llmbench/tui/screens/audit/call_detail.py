"""One call of the audit log in full: the conversation by role, parameters, response, tokens,
cost and the unit prices used, latency, the other attempts of its request, guard flags, tags
and hashes — with keys to copy the request or response, promote it to a test case, and open
its prompt version in F2."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static
from textual.worker import get_current_worker

from llmbench.core.audit.query import TextTerm, highlight_spans
from llmbench.core.media import describe, part_positions
from llmbench.tui.format import NOTHING, count, millis, model_label, money, timestamp
from llmbench.tui.screens.dialogs import Field, FormDialog
from llmbench.tui.screens.text_page import TextPageScreen

if TYPE_CHECKING:
    from llmbench.services.audit.browser import Promoted
    from llmbench.store.audit.browser import CallDetail

NEW_DATASET = "promoted-calls"


@dataclass(frozen=True)
class OpenVersion:
    """What the detail asks its pane to do when it closes: show this version in F2."""

    prompt_id: int
    version_id: int


def copy_text(app: Any, text: str) -> str:
    """Put text on the clipboard: the system one through pyperclip when it has a tool to use,
    else the terminal's (OSC 52, which most terminals and tmux honour). Says which."""
    try:
        import pyperclip

        pyperclip.copy(text)
        return "clipboard"
    except Exception:  # pyperclip raises its own error when no clipboard tool is installed
        app.copy_to_clipboard(text)
        return "terminal clipboard (OSC 52)"


def _price(value: float | None) -> str:
    return NOTHING if value is None else f"${value:,.2f}"


def _section(text: Text, title: str) -> None:
    text.append(f"\n{title}\n", style="bold underline")


def _json_list(value: Any) -> list[Any]:
    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _body(text: Text, content: str, terms: tuple[TextTerm, ...], indent: str = "  ") -> None:
    block = Text(indent + content.replace("\n", "\n" + indent))
    for start, end in highlight_spans(block.plain, terms):
        block.stylize("bold reverse", start, end)
    text.append_text(block)
    text.append("\n")


def _content(message: dict[str, Any], media: dict[int, str] | None = None) -> str:
    """The message as text; `media` names each image, audio or file part by its place in the
    content list (`[image 1024×768 png 182 KB]`)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: show the text parts, name the rest
        parts = []
        for at, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif media and at in media:
                parts.append(media[at])
            else:
                kind = part.get("type", "part") if isinstance(part, dict) else "part"
                parts.append(f"[{kind}]")
        return "\n".join(parts)
    if message.get("tool_calls"):
        return tool_calls_text(message["tool_calls"])
    extra = {k: v for k, v in message.items() if k != "role"}
    return json.dumps(extra, ensure_ascii=False, indent=2) if extra else ""


def tool_calls_text(calls: Any) -> str:
    """Each tool call as `→ name(arguments)  [id]`, one per line: the audit log's form
    ({"id", "name", "arguments"}) or OpenAI's message form ({"id", "function": {...}})."""
    lines = []
    for call in calls if isinstance(calls, list) else ():
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        name = call.get("name") or function.get("name") or "?"
        arguments = call.get("arguments") or function.get("arguments") or ""
        ident = f"  [{call['id']}]" if call.get("id") else ""
        lines.append(f"→ {name}({arguments}){ident}")
    return "\n".join(lines)


def _role(message: dict[str, Any]) -> str:
    role = str(message.get("role", "?")).upper()
    if message.get("role") == "tool" and message.get("tool_call_id"):
        return f"TOOL RESULT [{message['tool_call_id']}]"
    return role


def media_lines(messages: list[Any], labels: dict[int, str]) -> dict[int, dict[int, str]]:
    """For each message, its media parts' lines by their place in its content: the recorded
    part's description (m015), else what the stored part itself tells (a URL, a reference)."""
    lines: dict[int, dict[int, str]] = {}
    for (index, at), part in part_positions(messages).items():
        lines.setdefault(index, {})[at] = labels.get(part.position) or describe(part)
    return lines


def render_detail(
    detail: CallDetail, terms: tuple[TextTerm, ...] = (), parts: dict[int, str] | None = None
) -> Text:
    """The call in full; `parts`: its recorded media parts' descriptions by position."""
    call = detail.call
    text = Text()
    tries = len(detail.attempts)
    text.append(f"Call #{call['id']}", style="bold")
    text.append(f"  ·  attempt {call['attempt']} of {tries}  ·  request {call['request_id']}")
    text.append(f"  ·  {timestamp(call['ts'])} UTC\n")
    status_style = "bold" if call["status"] == "ok" else "bold red"
    text.append("Status ")
    text.append(call["status"], style=status_style)
    text.append(f"  ·  finish {call['finish_reason'] or NOTHING}")
    text.append(f"  ·  model {model_label(call['model'])}")
    if call["model_requested"] != call["model"]:
        text.append(f" (asked for {call['model_requested']})")
    text.append(f"  ·  provider {call['provider'] or NOTHING}\n")
    prompt = f"{detail.prompt_name} v{detail.prompt_version}" if detail.prompt_name else NOTHING
    text.append(
        f"Prompt {prompt}  ·  run {call['run_id'] or NOTHING}  ·  feature "
        f"{call['feature'] or NOTHING}  ·  team {call['team'] or NOTHING}  ·  customer "
        f"{call['customer'] or NOTHING}  ·  user {call['user'] or NOTHING}  ·  task "
        f"{call['task_type'] or NOTHING}\n"
    )
    thread = [
        f"{label} {call[column]}"
        for label, column in (
            ("Conversation", "conversation_id"),
            ("trace", "trace_id"),
            ("under request", "parent_request_id"),
        )
        if call.get(column)
    ]
    if thread:  # `h` in the log shows the whole thread
        text.append("  ·  ".join(thread) + "\n")

    _section(text, "TOKENS, COST, TIME")
    estimated = "  (estimated)" if call["tokens_estimated"] else ""
    # Since m014, when the provider told them: reasoning (of the completion), cache writes
    # (of the prompt), and the rates they were charged at when they had their own.
    reasoning, written = call.get("reasoning_tokens"), call.get("cache_write_tokens")
    details = "".join(
        f"  ·  {label} {count(value)}"
        for label, value in (("reasoning", reasoning), ("cache write", written))
        if value is not None
    )
    text.append(
        f"  prompt {count(call['prompt_tokens'])}  ·  completion "
        f"{count(call['completion_tokens'])}  ·  cached {count(call['cached_tokens'])}"
        f"{details}{estimated}\n"
    )
    rates = "".join(
        f", {label} {_price(value)}"
        for label, value in (
            ("reasoning", call.get("reasoning_price")),
            ("cache write", call.get("cache_write_price")),
        )
        if value is not None
    )
    text.append(
        f"  cost {money(call['cost'])}  ·  per 1M tokens: input {_price(call['input_price'])}"
        f", output {_price(call['output_price'])}, cached {_price(call['cached_price'])}"
        f"{rates}  ·  saved {money(call['saving'])}\n"
    )
    text.append(
        f"  latency {millis(call['latency_ms'])}  ·  time to first token "
        f"{millis(call['ttft_ms'])}\n"
    )

    _section(text, f"ATTEMPTS OF THIS REQUEST ({tries})")
    for attempt in detail.attempts:
        mark = "▸" if attempt.id == call["id"] else " "
        error = f"  {attempt.error}" if attempt.error else ""
        text.append(
            f"  {mark} #{attempt.id}  try {attempt.attempt}  {timestamp(attempt.ts)}  "
            f"{model_label(attempt.model)}  {attempt.status}  {millis(attempt.latency_ms)}"
            f"{error}\n",
            style="bold" if attempt.id == call["id"] else "",
        )

    _section(text, "PARAMETERS")
    text.append("  " + (json.dumps(detail.params, ensure_ascii=False) if detail.params else "{}"))
    text.append("\n")

    _section(text, "CONVERSATION")
    if call["purged_at"]:
        text.append(f"  Bodies purged by retention on {timestamp(call['purged_at'])}.\n")
    media = media_lines(detail.messages, parts or {})
    for index, message in enumerate(detail.messages):
        text.append(f"  {_role(message)}\n", style="bold")
        content = _content(message, media.get(index))
        if message.get("tool_calls") and isinstance(message.get("content"), str):
            content = message["content"] + "\n" + tool_calls_text(message["tool_calls"])
        _body(text, content, terms, indent="    ")
    text.append("  RESPONSE\n", style="bold")
    tool_calls = _json_list(call.get("tool_calls"))
    if call["response"] or not tool_calls:
        _body(text, call["response"] if call["response"] is not None else NOTHING, terms, "    ")
    if tool_calls:
        _body(text, tool_calls_text(tool_calls), terms, "    ")
    if call["error"]:
        _section(text, "ERROR")
        _body(text, f"{call['error_kind'] or 'error'}: {call['error']}", terms)

    _guard_section(text, call, detail.guard_flags)
    _section(text, "TAGS")
    tags = {k: v for k, v in detail.tags.items()} if isinstance(detail.tags, dict) else {}
    if call["arm"]:
        tags["arm"] = call["arm"]
    text.append(
        "  " + ("  ·  ".join(f"{k}={v}" for k, v in tags.items()) if tags else "none") + "\n"
    )
    _section(text, "INTEGRITY")
    text.append(f"  content hash  {call['content_hash'] or NOTHING}\n")
    text.append(f"  previous      {call['prev_hash'] or NOTHING}\n")
    text.append(f"  chain hash    {call['hash'] or NOTHING}\n")
    return text


def _guard_section(text: Text, call: Any, flags: list[Any]) -> None:
    """Each finding of the input and output guards (stage, action, rule, kind, where, excerpt)
    and, for a blocked call, why."""
    _section(text, f"GUARD ({len(flags)} finding{'s' if len(flags) != 1 else ''})")
    if call["status"] == "blocked":
        text.append("  BLOCKED  ", style="bold red")
        text.append(f"{call['error'] or 'by the guard'}\n")
    if not flags:
        text.append("  no findings\n")
    for flag in flags:
        if not isinstance(flag, dict):
            text.append(f"  ⚑ {flag}\n")
            continue
        action = str(flag.get("action") or "flag")
        style = {"block": "bold red", "redact": "bold yellow"}.get(action, "bold")
        text.append("  ⚑ ")
        text.append(f"{action:<6}", style=style)
        stage = f"{flag['stage']} " if flag.get("stage") else ""
        kind = f"  {flag['kind']}" if flag.get("kind") else ""
        where = f"  in {flag['where']}" if flag.get("where") else ""
        span = f" [{flag['start']}:{flag['end']}]" if "start" in flag and "end" in flag else ""
        text.append(f" {stage}{flag.get('rule', '?')}", style="bold")
        text.append(f"{kind}{where}{span}\n")
        excerpt = flag.get("excerpt") or flag.get("span")
        if excerpt:
            text.append(f"      “{excerpt}”\n")
        notes = [
            str(flag[key]) for key in ("detail", "note") if flag.get(key) and flag[key] != excerpt
        ]
        if flag.get("score") is not None:
            notes.insert(0, f"score {flag['score']}")
        if notes:
            text.append(f"      {'  ·  '.join(notes)}\n", style="dim")


def request_text(detail: CallDetail) -> str:
    """The request as it was sent: model, messages and parameters, as JSON."""
    return json.dumps(
        {
            "model": detail.call["model_requested"],
            "messages": detail.messages,
            **(detail.params if isinstance(detail.params, dict) else {}),
        },
        ensure_ascii=False,
        indent=2,
    )


class CallDetailScreen(TextPageScreen["OpenVersion | None"]):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="detail_close"),
        Binding("c", "copy_request", "Copy request", id="detail_copy_request"),
        Binding("o", "copy_response", "Copy response", id="detail_copy_response"),
        Binding("p", "promote", "To test case", id="detail_promote"),
        Binding("v", "open_version", "Open version (F2)", id="detail_open_version"),
        Binding("a", "next_attempt", "Next attempt", id="detail_next_attempt"),
    ]
    DEFAULT_CSS = """
    CallDetailScreen {
        #detail-scroll { height: 1fr; padding: 0 1; }
    }
    """
    SCROLL_ID = "detail-scroll"
    TEXT_ID = "detail-text"
    FIRST_TEXT = "Reading…"

    def __init__(self, call_id: int, terms: tuple[TextTerm, ...] = ()) -> None:
        super().__init__()
        self.call_id = call_id
        self.terms = terms
        self.detail: CallDetail | None = None
        self.title = "Call"

    def on_mount(self) -> None:
        self._read()

    def _read(self) -> None:
        from llmbench.services.audit import browser as audit_log

        store, call_id = self.bench.store, self.call_id

        def work() -> None:
            from llmbench.services.audit.media import part_labels

            detail = audit_log.read_detail(store, call_id)
            labels = part_labels(store, call_id) if detail is not None else {}
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._show, detail, labels)

        self.run_worker(work, thread=True, exclusive=True, group="detail", name="read call")

    def _show(self, detail: CallDetail | None, parts: dict[int, str] | None = None) -> None:
        self.detail = detail
        self.title = f"Call #{self.call_id}"
        widget = self.query_one("#detail-text", Static)
        if detail is None:
            widget.update(f"Call #{self.call_id} is no longer in the audit log.")
            return
        widget.update(render_detail(detail, self.terms, parts))
        self.query_one("#detail-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def _copy(self, what: str, text: str) -> None:
        where = copy_text(self.app, text)
        self.notify(f"{what} of call #{self.call_id} copied to the {where}.")

    def action_copy_request(self) -> None:
        if self.detail is not None:
            self._copy("Request", request_text(self.detail))

    def action_copy_response(self) -> None:
        if self.detail is None:
            return
        response = self.detail.call["response"]
        if response is None:
            self.notify("This call has no response to copy.", severity="warning")
            return
        self._copy("Response", response)

    def action_next_attempt(self) -> None:
        if self.detail is None or len(self.detail.attempts) < 2:
            self.notify("This request was answered at its first attempt.")
            return
        ids = [attempt.id for attempt in self.detail.attempts]
        self.call_id = ids[(ids.index(self.call_id) + 1) % len(ids)]
        self._read()

    def action_open_version(self) -> None:
        detail = self.detail
        if detail is None or detail.prompt_id is None:
            self.notify("This call did not come from a saved prompt version.", severity="warning")
            return
        self.dismiss(OpenVersion(detail.prompt_id, int(detail.call["prompt_version_id"])))

    def action_promote(self) -> None:
        if self.detail is None:
            return
        from llmbench.services.audit import browser as audit_log

        store = self.bench.store
        detail = self.detail

        def work() -> None:
            names = audit_log.dataset_names(store)
            self.app.call_from_thread(self._ask_promote, detail, names)

        self.run_worker(work, thread=True, group="datasets", name="read datasets")

    def _ask_promote(self, detail: CallDetail, names: list[str]) -> None:
        existing = ", ".join(names) if names else "none yet"
        fields = [
            Field(
                "dataset",
                f"Dataset (existing: {existing}; a new name creates it)",
                value=names[0] if names else NEW_DATASET,
            ),
            Field(
                "expected",
                "Expected answer (empty for none)",
                value=(detail.call["response"] or "") if detail.call["status"] == "ok" else "",
            ),
        ]

        def check(values: dict[str, str]) -> str | None:
            return None if values["dataset"].strip() else "Name a dataset."

        self.app.push_screen(
            FormDialog(f"Promote call #{self.call_id} to a test case", fields, submit="Add",
                       validate=check),
            self._promote,
        )  # fmt: skip

    def _promote(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.audit import browser as audit_log

        store, call_id = self.bench.store, self.call_id
        dataset, expected = values["dataset"], values["expected"]

        def work() -> None:
            try:
                done = audit_log.promote(store, call_id, dataset, expected)
            except Exception as error:  # a refused write is told, never fatal
                message = str(error) or type(error).__name__
                self.app.call_from_thread(
                    self.notify, message, title="Promote: not done", severity="error"
                )
                return
            self.app.call_from_thread(self._promoted, done)

        self.run_worker(work, thread=True, group="act", name="promote call")

    def _promoted(self, done: Promoted) -> None:
        made = " (new dataset)" if done.created_dataset else ""
        self.notify(f"Call #{self.call_id} is now case #{done.case_id} of {done.dataset}{made}.")
