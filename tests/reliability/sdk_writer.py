"""The processes test_concurrent_sdk_writers starts: PROCESSES writers making COUNT calls each
through the SDK, side by side on one database file.

    python -m tests.reliability.sdk_writer DB COUNT PROCESSES FOLDER

The parent imports llmbench and litellm once (seconds of CPU), then forks PROCESSES children,
each a writer of its own: it opens DB through `Bench`, calls the built-in `llmbench/echo` model
through `Bench.acomplete`, BATCH at a time (as a web app serving concurrent users would), each
call tagged user=pN and numbered, then prints `done pN COUNT`. A child's stderr goes to
FOLDER/writer-N.stderr, with the traceback of any error, for the test to read. The parent
prints `exit pN STATUS` for each child and exits 1 if any failed.
"""

from __future__ import annotations

import asyncio
import os
import sys

BATCH = 50


async def _batch(bench: object, name: str, start: int, size: int) -> None:
    await asyncio.gather(
        *(
            bench.acomplete(  # type: ignore[attr-defined]
                "llmbench/echo",
                [{"role": "user", "content": f"{name} call {n}"}],
                tags={"user": name, "feature": "reliability"},
            )
            for n in range(start, start + size)
        )
    )


def _write(db: str, count: int, name: str) -> None:
    from llmbench.config import Settings
    from llmbench.gateway.client import run_sync
    from llmbench.services.sdk import Bench

    with Bench(db=db, settings=Settings()) as bench:
        for start in range(0, count, BATCH):
            run_sync(_batch(bench, name, start, min(BATCH, count - start)))
    os.write(1, f"done {name} {count}\n".encode())


def _child(db: str, count: int, number: int, folder: str) -> None:
    code = 0
    try:
        stderr = os.open(os.path.join(folder, f"writer-{number}.stderr"), os.O_WRONLY | os.O_CREAT)
        os.dup2(stderr, 2)
        _write(db, count, f"p{number}")
    except BaseException:  # the traceback goes to the writer's stderr file, read by the test
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        code = 1
    finally:
        os._exit(code)  # never return into the parent's loop


def main() -> None:
    db, count, processes, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    # Everything a writer imports, imported before the fork (no thread is started by it).
    from llmbench.gateway.litellm_setup import litellm_module

    litellm_module()
    import llmbench.gateway.client
    import llmbench.services.sdk  # noqa: F401

    children = {}
    for number in range(processes):
        pid = os.fork()
        if pid == 0:
            _child(db, count, number, folder)
        children[pid] = f"p{number}"
    failed = False
    for pid, name in children.items():
        _, status = os.waitpid(pid, 0)
        print(f"exit {name} {status}", flush=True)
        failed = failed or status != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
