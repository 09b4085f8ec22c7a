"""Scenario 1 — kill -9 in the middle of a comparison run, at 16 random moments.

What it proves: a process killed outright (SIGKILL: no cleanup, no atexit, no rollback) while an
evaluation run writes its cells leaves a database that
  * passes `PRAGMA integrity_check` and has no `foreign_key_check` problem,
  * still holds every cell the run acknowledged (the child prints each result id as the
    progress callback reports it, which happens only after the cell's rows are committed),
  * resumes with exactly the missing cells: `evaluation.resume` runs 40 − kept cells, makes one
    audited call for each, and the run ends with all 40.

How: a 40-cell plan (one prompt version × the built-in `llmbench/echo` model × 40 cases, 20 ms
simulated latency, concurrency 4) is saved as a pending run in a template file. Each moment gets
a copy. A fork server (crash_child.py, litellm imported once) forks one child per copy; the test
waits for the child's k-th acknowledged cell (stratified: k steps through the first 80 % of the
40 cells over the 16 moments), then a seeded random part of one cell's calibrated time, and
sends SIGKILL; then it checks the file and resumes the run
in this process.

Runtime: ~15 s (2.5 s of imports in the fork server, then ~0.4 s per moment).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, Settings
from llmbench.core.models import Variable
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.client import shutdown_sync
from llmbench.services.evaluation.engine import EvalPlan, create_eval_run, resume
from llmbench.store import datasets
from llmbench.store.audit.log import database_id
from llmbench.store.db import open_db
from llmbench.store.prompts import versions as prompts_repo
from tests.reliability.conftest import START_WAIT_S, LineServer, assert_sound, count

CELLS = 40
CONCURRENCY = 4
LATENCY_MS = 20
MOMENTS = 16
SEED = 20_260_601
SPREAD = 0.8  # kill within the first 80 % of a calibrated run, so every child is mid-run
SETTINGS = Settings(gateway=GatewaySettings(max_retries=0))
WAIT_S = 120.0


@dataclass
class ChildRun:
    pid: int = 0
    started_at: float = 0.0
    acked: list[int] = field(default_factory=list)
    finished: bool = False  # printed `done`: the run ended before any kill
    status: int | None = None


class ForkServer(LineServer):
    """crash_child.py in a subprocess, its stdout read line by line on a thread."""

    def __init__(self, stderr_path: Path) -> None:
        super().__init__("tests.reliability.crash_child", stderr_path, WAIT_S)

    def warm(self, db: Path, run_id: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"warm\t{db}\t{run_id}\n")
        self.process.stdin.flush()
        assert self.next_line(START_WAIT_S) == "warm"

    def start(self, db: Path, run_id: int) -> ChildRun:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{db}\t{run_id}\n")
        self.process.stdin.flush()
        kind, pid = self.next_line().split()
        assert kind == "started"
        return ChildRun(pid=int(pid), started_at=time.monotonic())

    def collect(self, child: ChildRun, *, until_acks: int | None = None) -> None:
        """Read the child's lines until the server reports how it ended (or, with `until_acks`,
        until the child has acknowledged that many cells)."""
        while child.status is None:
            if until_acks is not None and len(child.acked) >= until_acks:
                return
            line = self.next_line()
            if line.startswith("ack "):
                child.acked.append(int(line.split()[1]))
            elif line == "done":
                child.finished = True
            elif line.startswith("exit "):
                _, pid, status = line.split()
                assert int(pid) == child.pid
                child.status = int(status)
            else:
                raise AssertionError(f"unexpected line from the child: {line!r}")

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=WAIT_S)
        self._stderr.close()


@pytest.fixture
def fork_server(tmp_path: Path) -> Iterator[ForkServer]:
    # Started here, after the per-test LLMBENCH_HOME is set: children find the same chain key.
    server = ForkServer(tmp_path / "fork-server.stderr")
    try:
        yield server
    finally:
        server.stop()
        shutdown_sync()


def _template(path: Path) -> int:
    """A database holding the 40-cell run, pending; returns the run's id."""
    with open_db(path) as store:

        def seed(db: Any) -> tuple[int, list[int]]:
            prompt = prompts_repo.create_prompt(db, "crash-test")
            version = prompts_repo.add_version(
                db, prompt, {"task": "Ticket: {{ ticket }}"}, variables=[Variable("ticket")]
            )
            dataset = datasets.create_dataset(db, "tickets")
            cases = datasets.add_cases(
                db, dataset, [datasets.NewCase({"ticket": f"ticket {n}"}) for n in range(CELLS)]
            )
            return version, cases

        version, cases = store.write(seed)
        plan = EvalPlan(
            name="crash",
            version_ids=(version,),
            case_ids=tuple(cases),
            models=("llmbench/echo",),
            params={"mock_latency_ms": LATENCY_MS},
            concurrency=CONCURRENCY,
        )
        run_id = create_eval_run(store, plan)
        # The chain key exists before the copies are made: every child uses the same one.
        load_chain_key(database_id(store.read()))
    return run_id


def _calibrate(server: ForkServer, template: Path, folder: Path, run_id: int) -> float:
    """How long a whole run takes in a child (the faster of two), once the server is warm."""
    scout = folder / "scout.db"
    shutil.copy(template, scout)
    server.warm(scout, run_id)
    durations = []
    for attempt in range(2):
        db = folder / f"calibrate-{attempt}.db"
        shutil.copy(template, db)
        child = server.start(db, run_id)
        server.collect(child)
        durations.append(time.monotonic() - child.started_at)
        assert child.finished and child.status == 0
        assert len(child.acked) == CELLS
    return min(durations)


def _check_and_resume(db: Path, run_id: int, acked: list[int]) -> int:
    """The file is sound and keeps every acknowledged cell; resuming runs only the missing
    ones. Returns how many cells the kill left."""
    assert_sound(db)
    with open_db(db, create=False) as store:
        kept = {row[0] for row in store.read().execute("SELECT id FROM results")}
        assert set(acked) <= kept, f"acknowledged but lost: {sorted(set(acked) - kept)}"
        calls_before = count(db, "SELECT count(*) FROM calls")
        summary = resume(store, SETTINGS, run_id, concurrency=CELLS)
        assert (summary.status, summary.total, summary.finished) == ("done", CELLS, CELLS)
        assert summary.ran == CELLS - len(kept)
        assert summary.errors == 0
    # One audited call per resumed cell: nothing that was kept ran again.
    assert count(db, "SELECT count(*) FROM calls") - calls_before == CELLS - len(kept)
    assert count(db, "SELECT count(*) FROM results WHERE run_id = ?", (run_id,)) == CELLS
    assert count(db, "SELECT count(DISTINCT case_id) FROM results") == CELLS
    assert_sound(db)
    return len(kept)


def _kill_after(
    server: ForkServer, template: Path, db: Path, run_id: int, acks: int, delay: float
) -> ChildRun:
    """SIGKILL a child `delay` seconds after it acknowledged its `acks`-th cell (or after it
    started, for 0). Counting acknowledgements instead of timing the whole run keeps the moments
    spread over the run however loaded the machine is. A run can still end within the delay:
    that try proves nothing, so the moment is tried again, sooner."""
    for _ in range(4):
        shutil.copy(template, db)
        child = server.start(db, run_id)
        server.collect(child, until_acks=acks)
        if child.status is None:
            time.sleep(delay)
            # It may have ended, and been reaped, before its moment: collect says so.
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            server.collect(child)
        if not child.finished:
            assert os.WIFSIGNALED(child.status) and os.WTERMSIG(child.status) == signal.SIGKILL
            return child
        delay /= 4
    raise AssertionError(f"every run ended before its kill (last delay {delay * 1000:.0f} ms)")


def test_kill_9_mid_run_keeps_every_acknowledged_cell(
    fork_server: ForkServer, tmp_path: Path
) -> None:
    template = tmp_path / "template.db"
    run_id = _template(template)
    duration = _calibrate(fork_server, template, tmp_path, run_id)
    rng = random.Random(SEED)
    kept_per_moment: list[int] = []
    cell_s = duration / CELLS
    for moment in range(MOMENTS):
        # Stratified over the first 80 % of the run: the acknowledgement to wait for, then a
        # seeded moment within the next cell's time (between two commits, or during one).
        acks = int(CELLS * SPREAD * moment / MOMENTS)
        delay = cell_s * rng.random()
        db = tmp_path / f"moment-{moment}.db"
        child = _kill_after(fork_server, template, db, run_id, acks, delay)
        kept_per_moment.append(_check_and_resume(db, run_id, child.acked))
    # The moments really are spread over the run: kills landed in at least three of its four
    # quarters (by cells kept), from before the first commit to near the end.
    quarters = {kept * 4 // CELLS for kept in kept_per_moment}
    assert len(quarters) >= 3, kept_per_moment
    stderr = (tmp_path / "fork-server.stderr").read_text()
    assert "child failed" not in stderr, stderr
