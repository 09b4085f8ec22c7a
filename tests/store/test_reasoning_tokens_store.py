"""m014: reasoning and cache-write tokens and their unit prices on real SQLite files. Sealed only
when a call has them (rows sealed before keep verifying), an edit of one is named by `verify`,
the daily rollups sum them, and a file from before m014 takes an older llmbench's calls while
refusing to drop the new counts silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import append_calls, database_id, verify_chain
from llmbench.store.db import Store, StoreError, connect, open_db
from llmbench.store.schema.migrations import migrations
from llmbench.store.schema.reasoning_cache_tokens import ROLLUP_SUMS_M014
from llmbench.store.schema.rollups import ROLLUP_TABLES
from tests.store.purge_window import open_purge_window

M014 = "m014_reasoning_and_cache_write_tokens"


def _call(n: int, day: str = "2026-03-01", **extra: Any) -> dict[str, Any]:
    return {
        "ts": f"{day}T10:00:0{n}.000Z",
        "request_id": f"r-{n}",
        "model_requested": "o3",
        "model": "o3",
        "status": "ok",
        "prompt_tokens": 100,
        "completion_tokens": 60,
        "cost": 0.001,
        "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
        "response": f"answer {n}",
        **extra,
    }


THINKING = {
    "reasoning_tokens": 40,
    "cache_write_tokens": 30,
    "reasoning_price": 8.0,
    "cache_write_price": 3.75,
}


def _sums(db: Any, table: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    keys = ", ".join(f"[{key}]" for key in ROLLUP_TABLES[table])
    names = ", ".join(name for name, _ in ROLLUP_SUMS_M014)
    fresh = ", ".join(
        "count(*)" if name == "calls" else f"sum({value.format(row='calls')})"
        for name, value in ROLLUP_SUMS_M014
    )
    kept = db.execute(f"SELECT day, {keys}, {names} FROM {table}").fetchall()
    computed = db.execute(
        f"SELECT substr(ts, 1, 10), {keys}, {fresh} FROM calls GROUP BY substr(ts, 1, 10), {keys}"
    ).fetchall()
    return sorted(kept, key=repr), sorted(computed, key=repr)


def test_a_file_from_before_m014_is_migrated_and_its_rollups_sum_the_new_counts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m013.db"
    path.touch(mode=0o600)
    db = connect(path)
    db.execute("PRAGMA application_id = 1280068930")
    migrations.apply(db, stop_before=M014)
    db.close()
    older = Store(path)
    key = load_chain_key(database_id(older.read()))
    older.write(lambda db: append_calls(db, key, [_call(1)]))
    # An older llmbench cannot keep the counts: refused whole, never dropped.
    with pytest.raises(StoreError, match="predates reasoning_tokens"):
        older.write(lambda db: append_calls(db, key, [_call(2, **THINKING)]))
    assert older.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    older.close()

    with open_db(path) as store:  # migrated: the old call verifies, new ones keep their counts
        calls = [_call(2, **THINKING), _call(3, day="2026-03-02", reasoning_tokens=5), _call(4)]
        store.write(lambda db: append_calls(db, key, calls))
        assert verify_chain(store.read(), key).ok
        read = store.read()
        assert read.execute(
            "SELECT reasoning_tokens, cache_write_tokens, reasoning_price, cache_write_price"
            " FROM calls ORDER BY id"
        ).fetchall() == [
            (None, None, None, None),
            (40, 30, 8.0, 3.75),
            (5, None, None, None),
            (None, None, None, None),
        ]
        for table in ROLLUP_TABLES:
            kept, computed = _sums(read, table)
            assert kept == pytest.approx(computed), table
        day = read.execute(
            "SELECT sum(reasoning_tokens), sum(cache_write_tokens) FROM rollup_daily"
            " WHERE day = '2026-03-01'"
        ).fetchone()
        assert tuple(day) == (40, 30)

        # Retention deleting a call takes its counts out of the day's sums.
        removed = tmp_path / "removed.db"
        read.execute("VACUUM INTO ?", [str(removed)])
        with open_db(removed, create=False) as copy:

            def delete(db: Any) -> None:
                open_purge_window(db, "test")
                db.execute("DELETE FROM calls WHERE id = 2")
                db.execute("DELETE FROM purge_window")

            copy.write(delete)
            for table in ROLLUP_TABLES:
                kept, computed = _sums(copy.read(), table)
                assert kept == pytest.approx(computed), table
            assert copy.read().execute(
                "SELECT sum(reasoning_tokens), sum(cache_write_tokens) FROM rollup_daily"
            ).fetchone() == (5, 0)

        # Each count and price is sealed: an edit in a copy of the file names the call.
        for column, value in (("reasoning_tokens", 4), ("cache_write_price", 0.0)):
            tampered = tmp_path / f"tampered-{column}.db"
            read.execute("VACUUM INTO ?", [str(tampered)])
            with open_db(tampered, create=False) as copy:

                def forge(db: Any, column: str = column, value: object = value) -> None:
                    db.execute("DROP TRIGGER calls_no_update")
                    db.execute(f"UPDATE calls SET {column} = ? WHERE id = 2", [value])

                copy.write(forge)
                report = verify_chain(copy.read(), key)
                # The rollup triggers followed the edit.
                kept, computed = _sums(copy.read(), "rollup_daily")
                assert kept == pytest.approx(computed)
            assert not report.ok and "call 2" in str(report.problem), column
