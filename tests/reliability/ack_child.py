"""The processes test_acknowledged_calls kills: a fork server whose children make model calls
and print each call's request id once the call has returned.

It imports llmbench and litellm once, prints `ready`, then for each line `WORKLOAD<TAB>DB` on
stdin forks a child that opens DB and makes calls of that workload until it is killed (or
RUN_LIMIT_S has passed: it then prints `done`). The child prints `started PID`, then
`ack REQUEST_ID` after each call returns, in the same write as nothing else, so a line is
either whole in the pipe or absent. The server prints `exit PID STATUS` (the raw waitpid
status) once the child has ended. A line `warm<TAB>DB` first runs every workload briefly in a
scout child and imports what its calls imported lazily, so later children start at once.

Workloads (all with the default durability, which the test is about):
  complete  — `Bench.complete` in a loop;
  acomplete — CONCURRENCY tasks, each awaiting `Bench.acomplete` in a loop;
  stream    — `Bench.stream` in a loop, acknowledged when the final result arrives;
  callback  — CONCURRENCY tasks calling `litellm.acompletion` with an LLMBenchLogger
              registered; a call is acknowledged once the logger's hook has returned.

Run as `python -m tests.reliability.ack_child` from the repository root.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import time
from typing import Any

CONCURRENCY = 16
RUN_LIMIT_S = 20.0
WORKLOADS = ("complete", "acomplete", "stream", "callback")
MODEL = "llmbench/echo"


def _ack(request_id: str) -> None:
    os.write(1, f"ack {request_id}\n".encode())


def _message(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"acknowledged call {n}"}]


def _until(deadline: float, calls: int | None) -> Any:
    n = 0
    while time.monotonic() < deadline and (calls is None or n < calls):
        yield n
        n += 1


def _bench_workload(workload: str, db: str, calls: int | None) -> None:
    from llmbench.config import Settings
    from llmbench.gateway.client import run_sync
    from llmbench.gateway.outcomes import GatewayResult
    from llmbench.services.sdk import Bench

    deadline = time.monotonic() + RUN_LIMIT_S
    bench = Bench(db=db, settings=Settings())
    if workload == "complete":
        for n in _until(deadline, calls):
            _ack(bench.complete(MODEL, _message(n)).request_id)
    elif workload == "stream":
        for n in _until(deadline, calls):
            for piece in bench.stream(MODEL, _message(n)):
                if isinstance(piece, GatewayResult):
                    _ack(piece.request_id)
    else:

        async def worker(offset: int) -> None:
            for n in _until(deadline, None if calls is None else calls // CONCURRENCY):
                result = await bench.acomplete(MODEL, _message(offset + n * CONCURRENCY))
                _ack(result.request_id)

        async def run() -> None:
            await asyncio.gather(*(worker(offset) for offset in range(CONCURRENCY)))

        run_sync(run())
    bench.close()


def _callback_workload(db: str, calls: int | None) -> None:
    from llmbench.gateway.callback import LLMBenchLogger
    from llmbench.gateway.litellm_setup import litellm_module

    litellm = litellm_module()

    class AcknowledgingLogger(LLMBenchLogger):  # type: ignore[misc]
        """The logger as an app installs it; a call is acknowledged when its hook returns."""

        async def async_log_success_event(
            self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
        ) -> None:
            await super().async_log_success_event(kwargs, response_obj, start_time, end_time)
            _ack(str(kwargs["litellm_call_id"]))

    logger = AcknowledgingLogger(db=db)
    litellm.callbacks = [logger]
    deadline = time.monotonic() + RUN_LIMIT_S

    async def worker(offset: int) -> None:
        for n in _until(deadline, None if calls is None else calls // CONCURRENCY):
            await litellm.acompletion(
                model=MODEL, messages=_message(offset + n * CONCURRENCY), num_retries=0
            )

    async def run() -> None:
        await asyncio.gather(*(worker(offset) for offset in range(CONCURRENCY)))
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

        await GLOBAL_LOGGING_WORKER.flush()
        await GLOBAL_LOGGING_WORKER.stop()

    asyncio.run(run())
    logger.close()


def _run(workload: str, db: str, calls: int | None = None) -> None:
    if workload == "callback":
        _callback_workload(db, calls)
    else:
        _bench_workload(workload, db, calls)


def _child(workload: str, db: str) -> None:
    code = 0
    try:
        os.write(1, f"started {os.getpid()}\n".encode())
        _run(workload, db)
        os.write(1, b"done\n")
    except BaseException as error:  # reported to the test, which fails on it
        sys.stderr.write(f"child failed: {error!r}\n")
        sys.stderr.flush()
        code = 1
    finally:
        os._exit(code)  # never return into the server's loop


def _warm(db: str) -> None:
    """Import what the workloads import on their first calls, without starting a thread here."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        before = set(sys.modules)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the scout's acks are not the test's
        for workload in WORKLOADS:
            _run(workload, db, calls=CONCURRENCY)
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

    count_tokens("warm the tokenizer", MODEL)


def main() -> None:
    from llmbench.gateway.litellm_setup import litellm_module

    litellm_module()
    import llmbench.gateway.callback
    import llmbench.services.sdk  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "warm":
            _warm(fields[1])
            print("warm", flush=True)
            continue
        workload, db = fields
        pid = os.fork()
        if pid == 0:
            _child(workload, db)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


if __name__ == "__main__":
    main()
