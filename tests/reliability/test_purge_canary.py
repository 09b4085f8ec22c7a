"""Scenario 3 — purge, then checkpoint: purged bodies really leave the file.

What it proves: after `services.retention.run_purge` (what `llmbench audit purge` and `p` on F7
run) a canary word that was in purged calls — sent and answered through the SDK, so it sits in
the calls table, its full-text index and the WAL — is in none of the database file's bytes nor
the WAL's; calls deleted outright leave none either; the purge is recorded as a retention alert
saying who purged how many; and the audit hash chain still verifies, before and after new calls
are appended.

Two product fixes came from this scenario: the purge merges the FTS5 index (`optimize`), whose
deletes otherwise only add tombstones and keep the words in older segments, and run_purge ends
with a TRUNCATE checkpoint, so the replaced pages do not linger in the WAL file.

Runtime: ~1 s (plus litellm's import if no earlier test paid it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llmbench.config import Settings
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.client import shutdown_sync
from llmbench.services.audit.retention import RetentionPolicy, run_purge
from llmbench.services.audit.verify import verify
from llmbench.services.sdk import Bench
from llmbench.store.audit.log import append_calls, database_id
from tests.reliability.conftest import assert_sound, count

REDACTED_CANARY = "zqxredactcanary7f3e9a1b"
DELETED_CANARY = "zqxdeletecanary0c4d2e8f"


def _file_bytes(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _old_call(n: int) -> dict[str, object]:
    return {
        "ts": f"2020-01-01T00:00:{n:02d}.000Z",
        "request_id": f"old-{n}",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "error" if n % 2 else "ok",
        "messages": json.dumps([{"role": "user", "content": f"old question {DELETED_CANARY}"}]),
        "response": None if n % 2 else f"old answer {DELETED_CANARY}",
        "error": f"provider said {DELETED_CANARY}" if n % 2 else None,
    }


def test_purged_bodies_leave_the_file_and_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "purge.db"
    bench = Bench(db=path, settings=Settings())
    try:
        key = load_chain_key(database_id(bench.store.read()))
        bench.store.write(lambda db: append_calls(db, key, [_old_call(n) for n in range(4)]))
        for n in range(5):
            text = f"ticket {n}: please refund {REDACTED_CANARY} order {n}" + " filler" * 40
            answer = bench.complete("llmbench/echo", [{"role": "user", "content": text}])
            assert REDACTED_CANARY in answer.text  # echo: the canary is in the response too
        bench.gateway.recorder.flush()
        store = bench.store
        found = store.read().execute(
            "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?", [REDACTED_CANARY]
        )
        assert found.fetchone()[0] == 5
        assert REDACTED_CANARY.encode() in _file_bytes(path)
        assert DELETED_CANARY.encode() in _file_bytes(path)

        # 40 days on: the 2020 calls are deleted, today's keep their metrics but lose bodies.
        later = datetime.now(UTC) + timedelta(days=40)
        policy = RetentionPolicy(delete_after_days=365, redact_after_days=30)
        outcome = run_purge(store, policy, who="reliability-test", now=later)
        assert (outcome.plan.to_delete, outcome.plan.to_redact) == (4, 5)

        data = _file_bytes(path)
        assert REDACTED_CANARY.encode() not in data
        assert DELETED_CANARY.encode() not in data
        assert count(path, "SELECT count(*) FROM calls WHERE purged_at IS NOT NULL") == 5
        assert count(path, "SELECT count(*) FROM calls WHERE prompt_tokens > 0") == 5  # metrics
        alert = (
            store.read()
            .execute("SELECT kind, message, context FROM alerts WHERE id = ?", [outcome.alert_id])
            .fetchone()
        )
        assert alert[0] == "retention" and "reliability-test" in alert[1]
        assert json.loads(alert[2])["deleted"] == 4 and json.loads(alert[2])["redacted"] == 5
        report = verify(store)
        assert report.ok, report.problem
        assert (report.checked, report.purged_bodies) == (5, 5)

        bench.complete("llmbench/echo", [{"role": "user", "content": "after the purge"}])
        bench.gateway.recorder.flush()
        assert verify(store).ok
    finally:
        bench.close()
        shutdown_sync()
    assert_sound(path)
    assert REDACTED_CANARY.encode() not in _file_bytes(path)
