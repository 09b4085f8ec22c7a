"""How quick the Compare pane stays while a comparison streams into four columns.

Run: python tests/benchmarks/bench_compare_tui.py [--cases 250] [--concurrency 50]
[--latency-ms 100] [--every-ms 50]

A real OpenAI-compatible server (tests/support/openai_server.py, in a process of its own)
answers every request after --latency-ms, streaming its reply in pieces. The real app runs
headless at 140x40 with Pilot: a comparison of one prompt version × four models × --cases
cases (all four models on that server) is started from the pane's own code path and, while
it streams, `]` (next case: four columns redrawn) is pressed every --every-ms. Each sample is
the time from the key press to the first frame painted with the new case on it.

Prints JSON: {"input_latency_median_ms", "input_latency_p95_ms", "input_latency_max_ms"
(goal: <= 50 ms while streaming into 4 columns), "samples", "cells", "run_s", "cells_per_s",
"chunks_streamed", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: find tests/

import llmbench  # noqa: F401  # the offline environment first
from tests.benchmarks.bench_gateway import API_KEY, _start_server, _stop_server

GOAL_MS = 50.0
MODELS = tuple(f"openai/bench-column-{n}" for n in range(1, 5))


def _seed(store: Any, cases: int) -> tuple[int, int]:
    from llmbench.core.models import Variable
    from llmbench.store import datasets
    from llmbench.store.prompts import versions as prompts_repo

    def job(db: Any) -> tuple[int, int]:
        prompt = prompts_repo.create_prompt(db, "bench-support")
        version = prompts_repo.add_version(
            db,
            prompt,
            {"role": "You answer support tickets briefly.", "task": "Ticket: {{ ticket }}"},
            variables=[Variable("ticket", "untrusted")],
        )
        dataset = datasets.create_dataset(db, "bench")
        datasets.add_cases(
            db,
            dataset,
            [datasets.NewCase({"ticket": f"ticket {n}: my parcel is late"}) for n in range(cases)],
        )
        return version, dataset

    result: tuple[int, int] = store.write(job)
    return result


async def measure(args: argparse.Namespace, base_url: str, folder: Path) -> dict[str, Any]:
    from textual import events
    from textual.app import App

    from llmbench.config import GatewaySettings, ModelOptions, ModelSettings, Settings
    from llmbench.services.compare.runs import Picks, new_comparison
    from llmbench.store.db import open_db
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.compare.run import RunScreen

    frames: list[float] = []
    shown: list[float] = []
    original_display, original_show_case = App._display, RunScreen._show_case

    def display(app: App[Any], screen: Any, renderable: Any) -> None:
        original_display(app, screen, renderable)
        if renderable is not None:
            frames.append(time.perf_counter())

    def show_case(self: RunScreen) -> None:
        original_show_case(self)
        shown.append(time.perf_counter())

    App._display = display  # type: ignore[method-assign]
    RunScreen._show_case = show_case  # type: ignore[method-assign]

    async def painted(since: float) -> float:
        deadline = time.perf_counter() + 10
        while True:
            moments = [t for t in shown if t >= since]
            if moments and any(f >= moments[0] for f in frames):
                return (min(f for f in frames if f >= moments[0]) - since) * 1000
            if time.perf_counter() > deadline:
                raise RuntimeError("the next case never reached the screen")
            await asyncio.sleep(0.0005)

    settings = Settings(
        gateway=GatewaySettings(max_retries=0),
        models=ModelSettings(default_models=MODELS),
        model={model: ModelOptions(api_base=base_url) for model in MODELS},  # type: ignore[arg-type]
    )
    store = open_db(folder / "bench.db")
    version, dataset = _seed(store, args.cases)
    run_id = new_comparison(
        store, Picks((version,), MODELS, dataset_id=dataset, concurrency=args.concurrency)
    )
    app = LLMBenchApp(store, settings, db_label="bench.db")

    def press(key: str) -> None:
        """Deliver a key the way a terminal does, through the driver, without Pilot's waiting
        for every widget to go idle (which, while cells stream, it seldom is)."""
        event = events.Key(key, None)
        event.set_sender(app)
        assert app._driver is not None
        app._driver.send_message(event)

    samples: list[float] = []
    chunks = 0
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f3")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        screen = RunScreen(run_id, start=True)
        await app.push_screen(screen)
        while screen.board is None or not screen.running:
            await pilot.pause(0.01)
        board = screen.board
        original_chunk = board.chunk

        def counted(cell: Any, text: str) -> None:
            nonlocal chunks
            chunks += 1
            original_chunk(cell, text)

        board.chunk = counted  # type: ignore[method-assign]
        started_run = time.perf_counter()
        while board.progress().running == 0:
            await pilot.pause(0.005)
        while screen.running and board.progress().finished < board.progress().total * 0.9:
            await pilot.pause(args.every_ms / 1000)
            started = time.perf_counter()
            press("right_square_bracket")
            samples.append(await painted(started))
        while screen.running:
            await pilot.pause(0.02)
        run_s = time.perf_counter() - started_run
        finished = board.progress().finished
    store.close()
    if not samples:
        raise RuntimeError("the run ended before a key could be pressed: raise --cases")
    ordered = sorted(samples)
    return {
        "input_latency_median_ms": round(statistics.median(samples), 1),
        "input_latency_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "input_latency_max_ms": round(ordered[-1], 1),
        "goal_ms": GOAL_MS,
        "samples": len(samples),
        "columns": len(MODELS),
        "cells": finished,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "run_s": round(run_s, 2),
        "cells_per_s": round(finished / run_s, 1),
        "chunks_streamed": chunks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--every-ms", type=float, default=50.0)
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", API_KEY)
    server, base_url = _start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as folder:
            figures = asyncio.run(measure(args, base_url, Path(folder)))
    finally:
        _stop_server(server)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
