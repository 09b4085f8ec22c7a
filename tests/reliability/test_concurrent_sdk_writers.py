"""Scenario 5 — four processes logging through the SDK while the TUI reads.

What it proves: four processes (forked from one that imported llmbench and litellm once, so
the scenario pays that import once) calling models through `Bench` (the SDK: the built-in
`llmbench/echo` model, 50 calls in flight per process) append to one database file while this
process runs the TUI (App.run_test) and keeps switching panes and paging the audit log. Then:
every call of every process is in the log, each exactly once; nothing anywhere said "database is
locked" (the children's stderr, the TUI's notifications; an exception in a TUI worker would fail
the test); the hash chain verifies across the interleaved writers; the file is sound.

Size: 4 × 300 calls by default (~7 s on two cores: the ~2 ms of CPU litellm and the audit
write take per call is what bounds it; 50 in flight per process interleave the four writers from
the first batch on, so more calls only repeat the same races). The full size of the issue,
4 × 10,000 = 40,000 calls (~1–2 min), runs with LLMBENCH_RELIABILITY_FULL=1:

    LLMBENCH_RELIABILITY_FULL=1 pytest tests/reliability/test_concurrent_sdk_writers.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from llmbench.config import Settings
from llmbench.gateway.chain_key import load_chain_key
from llmbench.services.audit.verify import verify
from llmbench.store.audit.log import database_id
from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from tests.reliability.conftest import ROOT, assert_sound, count
from tests.tui.conftest import settle

PROCESSES = 4
CALLS = 10_000 if os.environ.get("LLMBENCH_RELIABILITY_FULL") == "1" else 300
LOCKED = "database is locked"
TIMEOUT_S = 900.0
# Keys pressed round and round while the writers run: every pane, and paging through F6.
TOUR = ("f6", "pagedown", "pagedown", "G", "g", "f5", "f7", "f6", "end", "home", "f2", "f3")


def _start_writers(db: Path, folder: Path) -> subprocess.Popen[str]:
    """One process that imports llmbench and litellm once, then forks the writers."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.sdk_writer",
            str(db),
            str(CALLS),
            str(PROCESSES),
            str(folder),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(folder / "writers.stderr").open("w"),
        text=True,
    )


async def test_four_sdk_processes_log_every_call_while_the_tui_reads(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with open_db(db) as store:
        # One chain key for all: made before the writers race to make it.
        load_chain_key(database_id(store.read()))
    writers = _start_writers(db, tmp_path)
    store = open_db(db, create=False)
    steps = 0
    try:
        app = LLMBenchApp(store, Settings())
        async with app.run_test(size=(140, 40)) as pilot:
            while writers.poll() is None:
                await pilot.press(TOUR[steps % len(TOUR)])
                await settle(pilot, timeout=60)
                steps += 1
            notes = [str(note.message) for note in app._notifications]
    finally:
        if writers.poll() is None:
            writers.kill()
        writers.wait(timeout=TIMEOUT_S)
        store.close()

    assert steps >= len(TOUR)  # the TUI really read while the writers wrote
    errors = "".join(path.read_text() for path in sorted(tmp_path.glob("writer*.stderr")))
    assert LOCKED not in errors.lower(), errors
    assert writers.returncode == 0, errors
    assert writers.stdout is not None
    lines = writers.stdout.read().splitlines()
    assert sorted(line for line in lines if line.startswith("done")) == [
        f"done p{n} {CALLS}" for n in range(PROCESSES)
    ], lines
    assert not any(LOCKED in note.lower() for note in notes), notes

    assert count(db, "SELECT count(*) FROM calls") == PROCESSES * CALLS
    for n in range(PROCESSES):
        distinct = count(
            db,
            "SELECT count(DISTINCT json_extract(messages, '$[0].content')) FROM calls"
            " WHERE user = ? AND status = 'ok'",
            (f"p{n}",),
        )
        assert distinct == CALLS
    with open_db(db, create=False) as store:
        report = verify(store)
    assert report.ok, report.problem
    assert report.checked == PROCESSES * CALLS
    assert_sound(db)
