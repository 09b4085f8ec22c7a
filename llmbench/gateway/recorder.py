"""Writing audit records without making the caller wait on disk.

Each record is redacted, then queued to the store's single writer, which seals it onto the hash
chain inside a BEGIN IMMEDIATE batch with whatever else is queued.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from functools import lru_cache
from typing import Any

from llmbench.core.audit.redact import Redactor
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.keys import PROVIDERS
from llmbench.store.audit.log import append_calls, database_id
from llmbench.store.db import Store

# guard_flags too: its excerpts never hold a finding's secret, but may hold one nearby.
_REDACTED_FIELDS = ("messages", "params", "response", "error", "tags", "guard_flags")


def configured_secrets() -> list[str]:
    """Every provider key visible in the environment: masked wherever it appears."""
    return [os.environ[spec.env_var] for spec in PROVIDERS.values() if os.environ.get(spec.env_var)]


@lru_cache(maxsize=64)
def _redactor_for(secrets: tuple[str, ...]) -> Redactor:
    """Built once per set of secrets: every call needs one, and the set rarely changes."""
    return Redactor(secrets)


class AuditRecorder:
    def __init__(self, store: Store, key: bytes | None = None) -> None:
        self.store = store
        self.key = key or load_chain_key(database_id(store.read()))
        self._pending: deque[Future[list[int]]] = deque()

    def redactor(self, extra_secrets: Iterable[str] = ()) -> Redactor:
        return _redactor_for(tuple(sorted({*configured_secrets(), *extra_secrets})))

    def record(self, call: Mapping[str, Any], redactor: Redactor) -> Future[list[int]]:
        clean = dict(call)
        for name in _REDACTED_FIELDS:
            if isinstance(clean.get(name), str):
                clean[name] = redactor.text(clean[name])
        future = self.store.submit(lambda db: append_calls(db, self.key, [clean]))
        # Writes finish in order, so finished ones sit at the front: O(1) amortised.
        while self._pending and self._pending[0].done():
            self._pending.popleft()
        self._pending.append(future)
        return future

    def flush(self) -> None:
        """Wait until every record queued so far is on disk."""
        for future in self._pending:
            future.result()
        self._pending.clear()
