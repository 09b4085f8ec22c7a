"""Scenario 11 — four processes start together on a database that does not exist yet.

What it proves: creating a database is race-free. Four processes (the TUI, a CLI command and two
SDK scripts, say) open the same missing file at the same instant, 20 times over: every open
succeeds, the file is migrated exactly once (each migration recorded once) and passes
`integrity_check`. Before, 3 of 4 usually failed, with a raw FileExistsError or "table meta
already exists" reported as "cannot be read as a database": each process migrated the new file
itself. Now one creates and migrates it under SQLite's write lock while the others wait, then
find nothing left to do.

The four processes are started once and meet at a barrier before each trial, so a trial costs
one creation, not four interpreter starts.

Runtime: ~5 s.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from llmbench.store.db import KNOWN_MIGRATIONS
from tests.reliability.conftest import assert_sound

PROCESSES = 4
TRIALS = 20


def open_together(folder: str, trials: int, barrier: Barrier, results: Queue[list[str]]) -> None:
    """One process: at each trial, wait for the others, then open that trial's new file."""
    from llmbench.store.db import open_db

    outcomes = []
    for trial in range(trials):
        barrier.wait(timeout=60)
        try:
            with open_db(Path(folder) / f"trial-{trial}.db") as store:
                store.read().execute("SELECT count(*) FROM calls").fetchone()
            outcomes.append("ok")
        except Exception as error:  # every failure is the finding, whatever its type
            outcomes.append(f"{type(error).__name__}: {error}")
    results.put(outcomes)


def test_four_processes_creating_one_database_all_open_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # the test process may have threads
    barrier = context.Barrier(PROCESSES)
    results: Queue[list[str]] = context.Queue()
    processes = [
        context.Process(target=open_together, args=(str(tmp_path), TRIALS, barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    failures = [outcome for per_process in outcomes for outcome in per_process if outcome != "ok"]
    assert failures == [], f"{len(failures)} of {PROCESSES * TRIALS} opens failed: {failures[:5]}"
    for trial in range(TRIALS):
        path = tmp_path / f"trial-{trial}.db"
        assert_sound(path)
        conn = sqlite3.connect(path)
        try:
            names = [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations")]
        finally:
            conn.close()
        assert names == list(KNOWN_MIGRATIONS)  # each step ran once
