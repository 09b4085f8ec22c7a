"""The process that test_kill_mid_run kills: a small fork server for evaluation runs.

It imports litellm once (seconds), prints `ready`, then for every line `DB<TAB>RUN_ID` it reads
on stdin forks a child that resumes that run. A line `warm<TAB>DB<TAB>RUN_ID` first runs the run in
a scout child that reports which modules its first call imported lazily; the server imports them
too, so later children start at once. The child prints `started PID`, then `ack ID` for
each result row as the progress callback reports it (the row is committed by then), then `done`.
The parent waits for the child and prints `exit PID STATUS` (the raw waitpid status), so the test
can tell a child it killed with SIGKILL from one that finished.

Forking from a warm parent keeps each of the test's 25 children at a fraction of a second
instead of ~2.5 s of imports; the parent starts no thread before forking, so the fork is safe.

Run as `python -m tests.reliability.crash_child` from the repository root.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

RUN_SETTINGS: dict[str, Any] = {"max_retries": 0}


def _resume(db_path: str, run_id: int) -> None:
    from llmbench.config import GatewaySettings, Settings
    from llmbench.services.evaluation import engine as evaluation
    from llmbench.services.evaluation.cells import CellRunner
    from llmbench.store.db import open_db

    runners: list[CellRunner] = []

    class AcknowledgingRunner(CellRunner):
        """The engine's own runner; it is only remembered, so the progress callback can name
        the result row it has just acknowledged (progress gets counts, not ids)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            runners.append(self)

    def acknowledged(done: int, _total: int) -> None:
        # Called on the runner's loop right after the cell's rows were committed and the
        # outcome appended, with no await in between: outcome done - 1 is that cell.
        outcome = runners[-1].outcomes[done - 1]
        sys.stdout.write(f"ack {outcome.result_id}\n")
        sys.stdout.flush()

    evaluation.CellRunner = AcknowledgingRunner  # type: ignore[misc]
    store = open_db(db_path, create=False)
    settings = Settings(gateway=GatewaySettings(**RUN_SETTINGS))
    evaluation.resume(store, settings, run_id, progress=acknowledged)
    store.close()
    sys.stdout.write("done\n")
    sys.stdout.flush()


def _child(db_path: str, run_id: int) -> None:
    code = 0
    try:
        sys.stdout.write(f"started {os.getpid()}\n")
        sys.stdout.flush()
        _resume(db_path, run_id)
    except BaseException as error:  # reported to the test, which fails on it
        sys.stderr.write(f"child failed: {error!r}\n")
        sys.stderr.flush()
        code = 1
    finally:
        os._exit(code)  # never return into the parent's loop


def _warm(db_path: str, run_id: int) -> None:
    """Import what a run imports on its first call, without starting a thread here."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        before = set(sys.modules)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # the scout's acks are not the test's
        _resume(db_path, run_id)
        with os.fdopen(write_end, "w") as report:
            report.write("\n".join(sorted(set(sys.modules) - before)))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        names = report.read().split()
    os.waitpid(pid, 0)
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    from llmbench.core.tokens import count_tokens

    count_tokens("warm the tokenizer", "llmbench/echo")


def main() -> None:
    from llmbench.gateway.litellm_setup import litellm_module

    litellm_module()
    import llmbench.services.evaluation.engine  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "warm":
            _warm(fields[1], int(fields[2]))
            print("warm", flush=True)
            continue
        db_path, run_id = fields
        pid = os.fork()
        if pid == 0:
            _child(db_path, int(run_id))
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


if __name__ == "__main__":
    main()
