"""A key passed where a tag belongs (`tags={"customer": "sk-..."}`, litellm metadata, a route's
arm) is masked like a body: no table of the file holds it afterwards, neither the call's own
columns nor the daily rollups and breakdowns fed from them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from llmbench import Bench
from llmbench.config import Settings
from llmbench.core.audit.redact import MASK
from llmbench.core.traffic.routing import Arm, Route
from llmbench.gateway.attempt_rows import TAG_COLUMNS
from llmbench.gateway.client import shutdown_sync
from llmbench.store.audit.log import verify_chain
from llmbench.store.db import Store, open_db
from tests.support.litellm_callbacks import callback_lists_restored

# One distinct key per tag column, so a leak names the column it came through.
SECRETS = {column: f"sk-{column.replace('_', '')}Q7wL2nX9rT4yU1vZ6sP3m8K" for column in TAG_COLUMNS}
ARM_SECRET = "ghp_" + "Arm7" * 9


def _cells_holding(path: Path, secrets: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, secret) of every text cell of every table that holds one of secrets."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'"
            )
        ]
        found = []
        for table in tables:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for secret in secrets:
                    hit = conn.execute(
                        f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ? LIMIT 1',
                        [f"%{secret}%"],
                    ).fetchone()
                    if hit:
                        found.append((table, column, secret))
        return found
    finally:
        conn.close()


def test_sdk_tag_values_and_arms_are_redacted_in_calls_and_rollups(tmp_path: Path) -> None:
    path = tmp_path / "tags.db"
    route = Route("tiered", (Arm(ARM_SECRET, model="llmbench/echo"),), when={"tier": "free"})
    with Bench(db=path, settings=Settings(routes=(route,)), tags=dict(SECRETS)) as bench:
        bench.complete("llmbench/mock", [{"role": "user", "content": "hello"}])
        bench.complete("llmbench/mock", [{"role": "user", "content": "hi"}], tags={"tier": "free"})
        bench.gateway.recorder.flush()
        rows = bench.store.read().execute("SELECT customer, arm FROM calls ORDER BY id").fetchall()
        assert verify_chain(bench.store.read(), bench.gateway.recorder.key).ok
    shutdown_sync()
    assert rows == [(MASK, None), (MASK, f"tiered:{MASK}")]
    assert _cells_holding(path, [*SECRETS.values(), ARM_SECRET]) == []
    # The rollups still count the calls, under the masked value.
    conn = sqlite3.connect(path)
    try:
        customers = conn.execute(
            "SELECT customer, SUM(calls) FROM rollup_daily_customer"
        ).fetchall()
    finally:
        conn.close()
    assert customers == [(MASK, 2)]


@pytest.fixture
def litellm() -> Iterator[ModuleType]:
    from llmbench.gateway.litellm_setup import litellm_module

    module = litellm_module()
    with callback_lists_restored(module):
        yield module


def _count(store: Store) -> int:
    return int(store.read().execute("SELECT count(*) FROM calls").fetchone()[0])


def test_litellm_metadata_tags_are_redacted_by_the_callback(
    litellm: ModuleType, tmp_path: Path
) -> None:
    from llmbench.gateway.callback import LLMBenchLogger

    path = tmp_path / "app.db"
    with open_db(path) as store:
        logger = LLMBenchLogger(store=store, tags={"customer": SECRETS["customer"]})
        litellm.callbacks = [logger]
        try:
            litellm.completion(
                model="llmbench/mock",
                messages=[{"role": "user", "content": "hello"}],
                metadata={"team": SECRETS["team"], "user": SECRETS["user"], "feature": "faq"},
            )
            deadline = time.monotonic() + 5
            while _count(store) < 1 and time.monotonic() < deadline:  # litellm's thread pool
                time.sleep(0.02)
            logger.flush()
            row = store.read().execute("SELECT customer, team, user, feature FROM calls").fetchone()
        finally:
            logger.close()
    assert row == (MASK, MASK, MASK, "faq")
    assert _cells_holding(path, list(SECRETS.values())) == []
