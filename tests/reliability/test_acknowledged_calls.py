"""Scenario 9 — kill -9 while calls are being acknowledged, at 12 seeded random moments.

What it proves: with the default durability, a call that has returned to its caller has its
audit row on disk. A process killed outright (SIGKILL: no flush, no atexit) while it makes
calls as fast as it can loses none of the calls it had acknowledged, whichever door they went
through: `Bench.complete` in a loop, 16 concurrent `Bench.acomplete`, `Bench.stream`, and an
app's own `litellm.acompletion` calls recorded by `LLMBenchLogger` (16 concurrent; a call
counts as acknowledged once the logger's hook has returned). The file also passes
`integrity_check` and the hash chain verifies after every kill.

How: a fork server (ack_child.py, litellm imported once) forks one child per moment on a fresh
database. The child prints each call's request id once the call has returned;
the test kills it a seeded random delay (0–0.3 s) after its first acknowledged call, then checks
that every printed id has its row. Before group commit, calls
returned once their row was queued, and every kill lost some of the calls in flight.

Runtime: ~15 s (litellm's import in the server, a scout run, then ~0.5 s per moment).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.db import open_db
from tests.reliability.ack_child import WORKLOADS
from tests.reliability.conftest import START_WAIT_S, LineServer, assert_sound

MOMENTS = 12  # three per workload
SEED = 20_260_716
DELAY_S = (0.0, 0.3)  # after the child's first acknowledged call
WAIT_S = 60.0


@dataclass
class Child:
    workload: str
    pid: int = 0
    started_at: float = 0.0
    acked: list[str] = field(default_factory=list)
    finished: bool = False
    status: int | None = None


class AckServer(LineServer):
    """ack_child.py in a subprocess, its stdout read line by line on a thread."""

    def __init__(self, stderr_path: Path) -> None:
        super().__init__("tests.reliability.ack_child", stderr_path, WAIT_S)

    def send(self, *fields: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("\t".join(fields) + "\n")
        self.process.stdin.flush()

    def warm(self, db: Path) -> None:
        self.send("warm", str(db))
        assert self.next_line(START_WAIT_S) == "warm"

    def start(self, workload: str, db: Path) -> Child:
        self.send(workload, str(db))
        kind, pid = self.next_line().split()
        assert kind == "started"
        return Child(workload, pid=int(pid), started_at=time.monotonic())

    def first_ack(self, child: Child) -> None:
        """Wait until the child has acknowledged its first call: it is up to speed."""
        while not child.acked:
            self._take(child, self.next_line())

    def collect(self, child: Child) -> None:
        """Read the child's lines until the server reports how it ended."""
        while child.status is None:
            self._take(child, self.next_line())

    @staticmethod
    def _take(child: Child, line: str) -> None:
        if line.startswith("ack "):
            child.acked.append(line.split()[1])
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
def ack_server(tmp_path: Path) -> Iterator[AckServer]:
    # Started after the per-test LLMBENCH_HOME is set: every child finds the same chain key.
    server = AckServer(tmp_path / "ack-server.stderr")
    try:
        yield server
    finally:
        server.stop()


def _fresh(path: Path) -> bytes:
    """An empty database and its chain key. Each moment gets its own (a copy of one would
    share its identity, and so the chain head recorded beside the key, with the others)."""
    with open_db(path) as store:
        return load_chain_key(database_id(store.read()))


def _kill_after(server: AckServer, workload: str, db: Path, delay: float) -> Child:
    child = server.start(workload, db)
    server.first_ack(child)
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):  # it may have failed, and been reaped
        os.kill(child.pid, signal.SIGKILL)
    server.collect(child)
    assert not child.finished, "the child ran out of time before its kill"
    assert os.WIFSIGNALED(child.status) and os.WTERMSIG(child.status) == signal.SIGKILL
    return child


def _recorded(db: Path, key: bytes) -> set[str]:
    assert_sound(db)
    with open_db(db, create=False) as store:
        assert verify_chain(store.read(), key).ok
        return {row[0] for row in store.read().execute("SELECT request_id FROM calls")}


def test_kill_9_loses_no_acknowledged_call(ack_server: AckServer, tmp_path: Path) -> None:
    scout = tmp_path / "scout.db"
    _fresh(scout)
    ack_server.warm(scout)
    rng = random.Random(SEED)
    acked_per_workload = dict.fromkeys(WORKLOADS, 0)
    lost: dict[str, str] = {}
    for moment in range(MOMENTS):
        workload = WORKLOADS[moment % len(WORKLOADS)]
        db = tmp_path / f"moment-{moment}.db"
        key = _fresh(db)
        child = _kill_after(ack_server, workload, db, rng.uniform(*DELAY_S))
        acked_per_workload[workload] += len(child.acked)
        missing = sorted(set(child.acked) - _recorded(db, key))
        if missing:
            lost[f"moment {moment} ({workload})"] = f"{len(missing)} of {len(child.acked)}"
    assert lost == {}, f"acknowledged calls lost: {lost}; acknowledged: {acked_per_workload}"
    stderr = (tmp_path / "ack-server.stderr").read_text()
    assert "child failed" not in stderr, stderr
