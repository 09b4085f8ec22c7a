"""The process test_search_index kills: it acknowledges calls, then dies by SIGKILL between the
commit that acknowledged them and the writer's indexing of them.

Run as `python -m tests.store.index_crash_child DB CALLS` from the repository root. It opens
DB, has the writer append CALLS calls as the gateway's recorder does (`index_later`), prints
their ids as a JSON list once the commit has acknowledged them, and the moment the writer goes
to index them it sends itself SIGKILL (no flush, no atexit, no close).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
import time

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store import batches
from llmbench.store.audit.log import append_calls, database_id
from llmbench.store.db import open_db

WAIT_S = 30.0


def _call(n: int) -> dict[str, object]:
    return {
        "ts": f"2026-03-01T10:00:{n % 60:02d}.000Z",
        "request_id": f"crash-{n}",
        "model_requested": "llmbench/echo",
        "model": "llmbench/echo",
        "status": "ok",
        "messages": json.dumps([{"role": "user", "content": f"kumquat question {n}"}]),
        "response": f"kumquat answer {n}",
    }


def main(path: str, count: int) -> None:
    store = open_db(path)
    key = load_chain_key(database_id(store.read()))
    printed = threading.Event()

    def killed_before_indexing(_conn: sqlite3.Connection) -> int:
        printed.wait(WAIT_S)  # the acknowledgement is out: the state the test is about
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("SIGKILL did not end the process")

    # Only the writer's indexing after an index_later batch calls this binding.
    batches.index_pending = killed_before_indexing
    calls = [_call(n) for n in range(count)]
    ids = store.submit(lambda db: append_calls(db, key, calls), index_later=True).result()
    os.write(1, (json.dumps(ids) + "\n").encode())
    printed.set()
    time.sleep(WAIT_S)
    raise SystemExit("still alive: the writer never went to index the calls")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
