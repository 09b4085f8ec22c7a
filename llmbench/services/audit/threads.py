"""F6's thread view: the conversation or trace a call belongs to, read for the TUI, with each
step's own user message as the detail view shows it: its text and its media parts named in
place (`[image 1024×768 png 182 KB]`, services/audit/media.py's labels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmbench.core.audit.threads import Thread
from llmbench.core.media import describe, part_positions
from llmbench.store.audit import threads as thread_reads
from llmbench.store.audit.browser import call_detail
from llmbench.store.audit.media_parts import parts_of
from llmbench.store.db import Store


@dataclass(frozen=True)
class ThreadView:
    thread: Thread
    user_parts: Mapping[int, tuple[str, ...]]
    """By step id, for the steps whose own user message sent media: each part of that message
    in order, a text part's text or a media part's label."""


def read_thread_view(store: Store, call_id: int) -> ThreadView | None:
    """The conversation of the call (else its trace) with its steps' media parts named, or
    None when the call is in neither."""
    db = store.read()
    thread = thread_reads.thread_of_call(db, call_id)
    if thread is None:
        return None
    found: dict[int, tuple[str, ...]] = {}
    for step in thread.steps:
        # Most steps send no media: one indexed look-up each, and their messages stay unread.
        stored = parts_of(db, step.id)
        if not stored:
            continue
        detail = call_detail(db, step.id)
        if detail is None:
            continue
        labels = {each.part.position: describe(each.part) for each in stored}
        parts = own_user_parts(detail.messages, labels)
        if parts:
            found[step.id] = parts
    return ThreadView(thread, found)


def own_user_parts(messages: Sequence[Any], labels: Mapping[int, str]) -> tuple[str, ...]:
    """The parts of the last user message a call added (after its last assistant message), as
    the detail view shows them: texts, and each media part by its recorded label (else what
    the stored part tells); empty when that message sent no media."""
    last_user = None
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ("user", "tool"):
            break
        if role == "user" and last_user is None:
            last_user = index
    if last_user is None:
        return ()
    media = {
        at: part for (index, at), part in part_positions(messages).items() if index == last_user
    }
    if not media:
        return ()
    shown: list[str] = []
    for at, part in enumerate(messages[last_user].get("content") or ()):
        if at in media:
            shown.append(labels.get(media[at].position) or describe(media[at]))
        elif isinstance(part, Mapping) and part.get("type") == "text":
            shown.append(str(part.get("text", "")))
    return tuple(shown)
