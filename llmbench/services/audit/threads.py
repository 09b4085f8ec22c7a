"""F6's thread view: the conversation or trace a call belongs to, read for the TUI."""

from __future__ import annotations

from llmbench.core.audit.threads import Thread
from llmbench.store.audit import threads as thread_reads
from llmbench.store.db import Store


def read_thread_of(store: Store, call_id: int) -> Thread | None:
    """The conversation of the call (else its trace), or None when it is in neither."""
    return thread_reads.thread_of_call(store.read(), call_id)
