"""One of the processes test_concurrent_sdk_writers starts: COUNT calls through the SDK.

    python -m tests.reliability.sdk_writer DB COUNT NAME

Calls the built-in `llmbench/echo` model through `Bench.acomplete`, BATCH at a time (as a web
app serving concurrent users would), each tagged user=NAME and numbered, then prints
`done NAME COUNT`. Any error goes to stderr with its traceback, for the test to read.
"""

from __future__ import annotations

import asyncio
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


def main() -> None:
    db, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    from llmbench.config import Settings
    from llmbench.gateway.client import run_sync
    from llmbench.services.sdk import Bench

    with Bench(db=db, settings=Settings()) as bench:
        for start in range(0, count, BATCH):
            run_sync(_batch(bench, name, start, min(BATCH, count - start)))
    print(f"done {name} {count}", flush=True)


if __name__ == "__main__":
    main()
