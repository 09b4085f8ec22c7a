"""What a benchmark needs to know of a database it did not build (`--db`): when its newest call
was made, which is the "now" its windows end at, and how many calls it holds. So bench_costs and
bench_monitor read the same demo file bench_audit does (at 10M calls, building each benchmark's
own file as well would take hours and three times the disk).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path


def newest_call_and_count(path: Path) -> tuple[datetime, int]:
    """The newest call's moment (UTC) and the number of calls, read-only (the count walks the
    smallest index: about a second at 10M calls)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        newest, count = connection.execute("SELECT max(ts), count(*) FROM calls").fetchone()
    finally:
        connection.close()
    if newest is None:
        raise SystemExit(f"{path}: no calls to measure")
    moment = datetime.fromisoformat(newest.replace("Z", "+00:00")).astimezone(UTC)
    return moment, int(count)
