from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from llmbench.core.audit.chain import GENESIS
from llmbench.store.audit.log import append_calls, chain_head, plan_purge, purge, verify_chain
from llmbench.store.db import Store, open_db

KEY = b"k" * 32


def _call(n: int, day: int = 1) -> dict[str, object]:
    return {
        "ts": f"2026-01-{day:02d}T00:00:{n % 60:02d}.000Z",
        "request_id": f"req-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "messages": json.dumps([{"role": "user", "content": f"question {n} canary-{n}"}]),
        "response": f"answer {n}",
        "status": "ok",
        "prompt_tokens": 10 + n,
        "completion_tokens": 5,
        "cost": 0.001 * n,
        "latency_ms": 100 + n,
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with open_db(tmp_path / "chain.db") as opened:
        yield opened


def _raw(store: Store) -> sqlite3.Connection:
    """The sqlite3 shell's view: no triggers bypassed, but no llmbench code either."""
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER calls_no_update")
    conn.execute("DROP TRIGGER calls_no_delete")
    return conn


def test_a_fresh_log_verifies_and_reports_its_head(store: Store) -> None:
    ids = store.write(lambda db: append_calls(db, KEY, [_call(n) for n in range(1, 11)]))
    assert ids == list(range(1, 11))
    report = verify_chain(store.read(), KEY)
    assert report.ok
    assert report.checked == 10
    assert (report.head_id, report.head_hash) == chain_head(store.read())[:2]
    first = store.read().execute("SELECT prev_hash FROM calls WHERE id = 1").fetchone()[0]
    assert first == GENESIS


def test_appends_from_separate_batches_continue_the_chain(store: Store) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(1)]))
    store.write(lambda db: append_calls(db, KEY, [_call(2), _call(3)]))
    assert verify_chain(store.read(), KEY).ok


@pytest.mark.parametrize(
    ("sql", "bad_id", "reason"),
    [
        ("UPDATE calls SET cost = 99 WHERE id = 4", 4, "call 4 was edited after it was sealed"),
        ("UPDATE calls SET response = 'forged' WHERE id = 6", 6, "response or error"),
        ("DELETE FROM calls WHERE id = 5", 6, "call 5 was deleted: call 6 no longer follows"),
        ("UPDATE calls SET id = 100 WHERE id = 3", 4, "call 3 was deleted"),
    ],
)
def test_tampering_names_the_first_bad_row(
    store: Store, sql: str, bad_id: int, reason: str
) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(n) for n in range(1, 11)]))
    conn = _raw(store)
    conn.execute(sql)
    conn.commit()
    conn.close()
    report = verify_chain(store.read(), KEY)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.call_id == bad_id
    assert reason in report.problem.reason


def test_a_deleted_tail_is_caught_by_a_checkpoint(store: Store) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(n) for n in range(1, 6)]))
    checkpoint = chain_head(store.read())
    conn = _raw(store)
    conn.execute("DELETE FROM calls WHERE id = 5")
    conn.commit()
    conn.close()
    # The walk alone cannot see a cut tail: the head kept beside the key, or a checkpoint, can.
    assert verify_chain(store.read(), KEY).ok
    report = verify_chain(store.read(), KEY, checkpoint=checkpoint[:2])
    assert report.problem is not None and report.problem.kind == "cut-tail"
    assert "call 5 was cut from the end: the checkpoint is call 5" in report.problem.reason


def test_the_wrong_key_fails(store: Store) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(1)]))
    assert not verify_chain(store.read(), b"other key").ok


def test_purge_redacts_and_deletes_and_the_chain_still_verifies(store: Store) -> None:
    calls = [_call(n, day=1 + n // 10) for n in range(1, 40)]
    store.write(lambda db: append_calls(db, KEY, calls))
    plan = plan_purge(store.read(), "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")
    assert (plan.to_delete, plan.to_redact) == (9, 10)
    store.write(lambda db: purge(db, KEY, plan, "retention test"))
    db = store.read()
    assert db.execute("SELECT min(id), count(*) FROM calls").fetchone() == (10, 30)
    assert db.execute("SELECT count(*) FROM calls WHERE purged_at IS NOT NULL").fetchone()[0] == 10
    report = verify_chain(db, KEY)
    assert report.ok, report.problem
    assert report.purged_bodies == 10
    store.write(lambda db: append_calls(db, KEY, [_call(99, day=9)]))
    assert verify_chain(store.read(), KEY).ok


def test_purging_everything_then_appending_still_verifies(store: Store) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(n) for n in range(1, 5)]))
    plan = plan_purge(store.read(), "2030-01-01T00:00:00Z", None)
    store.write(lambda db: purge(db, KEY, plan, "all"))
    assert store.read().execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    ids = store.write(lambda db: append_calls(db, KEY, [_call(7, day=5)]))
    assert ids == [5]
    assert verify_chain(store.read(), KEY).ok


def test_a_forged_anchor_is_detected(store: Store) -> None:
    store.write(lambda db: append_calls(db, KEY, [_call(n, day=1 + n // 5) for n in range(1, 15)]))
    store.write(
        lambda db: purge(db, KEY, plan_purge(db, "2026-01-02T00:00:00Z", None), "retention")
    )
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER IF EXISTS chain_anchors_no_update")
    conn.execute("UPDATE chain_anchors SET deleted = 1")
    conn.commit()
    conn.close()
    report = verify_chain(store.read(), KEY)
    assert report.problem is not None and "anchor" in report.problem.reason
