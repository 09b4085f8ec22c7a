"""Recording the audit chain's head beside its key after every commit of calls.

The head (last call, count, hash; HMAC'd) moves forward only along the chain: it is recorded
only when the call it last named is still there with the same hash (or was deleted by a
retention purge, which anchored the chain) and the new last call's seal verifies. So a log cut
back and continued, or a forged last call, never becomes the recorded head; verification then
names what happened. The recorder's commits only wake a thread that records the newest head
(one write however many calls committed meanwhile), so no call waits on the keyring or an
fsync of the head; a crash before it ran leaves the head a little behind, which verification
accepts as long as the calls after it verify under the key.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from llmbench.core.audit.chain import ChainHead, row_seal_matches, same_digest
from llmbench.gateway.chain_key import chain_lock, read_head, write_head
from llmbench.store.audit.chain_records import (
    anchors,
    call_hash,
    committed_end,
    database_id,
    form_of,
)
from llmbench.store.db import Store, connect

if TYPE_CHECKING:
    from llmbench.store.db import Database

log = logging.getLogger(__name__)

HeadStatus = Literal["recorded", "unchanged", "empty", "refused"]
# At most this often per database and process: a keyring write can take milliseconds.
MIN_INTERVAL_S = 0.05


@dataclass(frozen=True)
class HeadOutcome:
    status: HeadStatus
    head: ChainHead | None = None
    reason: str = ""


def record_head(store: Store, key: bytes, db: Database | None = None) -> HeadOutcome:
    """Record the committed end of `store`'s chain beside its key, if it follows the head
    recorded before. Reads through `db`, else this thread's connection of the store."""
    db = db if db is not None else store.read()
    db_id = database_id(db)
    with chain_lock(db_id):
        end = committed_end(db)
        if end.last is None and end.point.last_id == 0:
            return HeadOutcome("empty")
        if end.last is not None:
            form, sealed_db = form_of(db, int(end.last["id"]))
            if not row_seal_matches(key, form, sealed_db, end.last):
                return _refused(f"the last call ({end.last['id']}) does not verify under the key")
        else:
            found = anchors(db).get(end.point.last_id + 1)
            if found is None or not same_digest(found[0].digest(key), found[1]):
                return _refused("the retention anchor the log now starts at does not verify")
        candidate = ChainHead(
            db_id=db_id,
            call_id=end.point.last_id,
            count=end.count,
            hash=end.point.prev_hash,
            form_first_call_id=end.form_first_call_id,
        )
        recorded = read_head(db_id)
        if recorded is not None:
            head, mac = recorded
            if not same_digest(head.digest(key), mac):
                return _refused("the recorded head does not verify under the key")
            if head == candidate:
                return HeadOutcome("unchanged", head)
            if candidate.call_id < head.call_id:
                return _refused(f"the log ends before the recorded head (call {head.call_id})")
            if head.call_id > end.retention_floor and call_hash(db, head.call_id) != head.hash:
                return _refused(f"call {head.call_id} is no longer the recorded head")
        write_head(db_id, candidate, candidate.digest(key))
        return HeadOutcome("recorded", candidate)


def _refused(reason: str) -> HeadOutcome:
    # The old head stays: it is the evidence `llmbench audit verify` reports from.
    return HeadOutcome("refused", reason=reason)


class HeadKeeper:
    """Records a store's head on a thread of its own after commits (`committed()`)."""

    def __init__(self, store: Store, key: bytes) -> None:
        self.store = store
        self.key = key
        self._cond = threading.Condition()
        self._pending = False
        self._busy = False
        self._hurry = False
        self._thread: threading.Thread | None = None
        self.last: HeadOutcome | None = None

    def committed(self) -> None:
        """Calls were committed: record the head soon. Cheap; any thread."""
        with self._cond:
            self._pending = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="llmbench-chain-head", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the head of every commit so far is recorded (or refused)."""
        with self._cond:
            self._hurry = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)
            self._hurry = False

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._pending, timeout=30):
                    self._thread = None
                    return
                self._pending = False
                self._busy = True
            try:
                if not self.store.path.exists():  # removed meanwhile: never create it anew
                    continue
                # A connection of its own, closed at once: this thread comes and goes, and a
                # connection left open would keep the WAL after the store closes.
                with contextlib.closing(connect(self.store.path)) as db:
                    outcome = record_head(self.store, self.key, db)
                if outcome.status == "refused" and outcome.reason != getattr(
                    self.last, "reason", None
                ):
                    log.warning(
                        "audit chain head not moved: %s; run `llmbench audit verify`",
                        outcome.reason,
                    )
                self.last = outcome
            except Exception as error:  # a closed store, an unwritable config dir: not fatal
                log.debug("audit chain head not recorded: %s", error)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait_for(lambda: self._hurry, timeout=MIN_INTERVAL_S)


_keepers: weakref.WeakSet[HeadKeeper] = weakref.WeakSet()
_keepers_lock = threading.Lock()


def head_keeper(store: Store, key: bytes) -> HeadKeeper:
    """A keeper for one writer of `store` (each recorder has its own; `chain_lock` orders
    them), flushed when the process exits."""
    keeper = HeadKeeper(store, key)
    with _keepers_lock:
        _keepers.add(keeper)
    return keeper


@atexit.register
def _flush_all() -> None:
    with _keepers_lock:
        keepers = list(_keepers)
    for keeper in keepers:
        keeper.flush(timeout=2.0)
