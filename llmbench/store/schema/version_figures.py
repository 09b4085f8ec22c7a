"""m020: a version's figures in F2 read at the size of the log: its counts, tokens and cost come
from the daily rollups (a version's rows found by an index there), and its latency percentiles
from an index that holds every answered call's latency in order, so neither reads a call row.
Before, a version with 160,000 calls took 370 ms to describe. A released migration is never
edited: add a new step."""

from __future__ import annotations

from sqlite_utils import Database


def m020_version_figures(db: Database) -> None:
    db.execute(
        "CREATE INDEX IF NOT EXISTS calls_version_latency"
        " ON calls(prompt_version_id, status, latency_ms)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS rollup_daily_version ON rollup_daily(prompt_version_id, status)"
    )
