"""The search index a bulk load builds (store/bulk_load.py): built with FTS5's large `hashsize`,
it holds every call, passes FTS5's own integrity check, leaves FTS5's config as a fresh file
has it, and the calls appended afterwards are indexed as ever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import append_calls, database_id
from llmbench.store.bulk_load import FTS_BULK_HASH_BYTES, bulk_calls
from llmbench.store.db import Store, open_db

CALLS = 5_000


def _call(n: int) -> dict[str, Any]:
    return {
        "ts": f"2025-03-{1 + n % 28:02d}T10:00:00.000Z",
        "request_id": f"req-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        # Words shared by many calls and one word per call, so the index has long and short
        # posting lists, and more terms than one default-sized segment holds.
        "messages": f'[{{"role": "user", "content": "refund order kumquat{n} please {n % 97}"}}]',
        "response": f"answer {n} " + " ".join(f"w{(n * 7 + i) % 5000}" for i in range(40)),
    }


def _config(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in store.read().execute("SELECT k, v FROM calls_fts_config")]


def _found(store: Store, word: str) -> list[int]:
    rows = store.read().execute("SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?", (word,))
    return [row[0] for row in rows]


def test_a_bulk_load_indexes_every_call_and_leaves_the_config_as_it_was(tmp_path: Path) -> None:
    with open_db(tmp_path / "bulk.db") as store:
        fresh_config = _config(store)
        key = load_chain_key(database_id(store.read()))
        calls = [_call(n) for n in range(CALLS)]
        # More text than FTS5's default hashsize: at the default, the load would have written
        # several segments; with the bulk size, one.
        assert sum(len(c["messages"]) + len(c["response"]) for c in calls) > 1024 * 1024
        assert FTS_BULK_HASH_BYTES > 1024 * 1024

        def load(db: Any) -> None:
            with bulk_calls(db):
                for start in range(0, CALLS, 500):
                    append_calls(db, key, calls[start : start + 500])

        store.write(load)
        assert _config(store) == fresh_config  # no hashsize row left behind
        store.write(
            lambda db: db.conn.execute(
                "INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')"
            )
        )
        assert _found(store, "kumquat1234") == [1234 + 1]
        assert len(_found(store, "refund")) == CALLS

        store.write(lambda db: append_calls(db, key, [_call(CALLS)]))
        assert store.index_now()
        assert _found(store, f"kumquat{CALLS}") == [CALLS + 1]
        assert len(_found(store, "refund")) == CALLS + 1
