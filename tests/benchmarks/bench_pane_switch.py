"""F6 pressed right after the app opens on a large file: how long until its rows are painted,
while the first pane (F2) is still reading (issue 21: "no pane waits on another", goal 100 ms).

Run: python tests/benchmarks/bench_pane_switch.py [--calls 200000] [--db PATH] [--runs 9]

Without --db it builds a demo database of --calls calls into a temporary folder (timed, and
deleted afterwards unless --keep names where to move it). Each run is a fresh process that opens
the file in the real app (headless Pilot), waits until F2's first reads are under way in its
workers, presses F6 and times the first frame that reaches the terminal driver with the audit
log's rows on it (tests/support/pane_switch_timing.py, which the Pilot test shares). Also
reported: which of F2's reads were under way at the press, and how long after it they had all
stopped. Prints JSON: median and p95 of the painted time over the runs, every sample, the file's
size, and the machine's load average before and after the runs. The machine should be quiet:
every figure grows with its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmbench.core.stats import percentile

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
GOAL_MS = 100


def measure_once(path: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))  # tests.support, as the Pilot test imports it
    from llmbench.config import GeneralSettings, Settings
    from llmbench.store.db import open_db
    from llmbench.tui.app import LLMBenchApp
    from tests.support.pane_switch_timing import f6_after_start

    store = open_db(path, create=False)
    try:
        app = LLMBenchApp(
            store, Settings(general=GeneralSettings(reviewer="bench")), clock=lambda: NOW
        )
        timing = asyncio.run(f6_after_start(app))
    finally:
        store.close()
    return {
        "painted_ms": timing.painted_ms,
        "first_pane_reads": list(timing.first_pane_reads),
        "first_pane_stopped_ms": timing.first_pane_stopped_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--db", type=Path, help="measure this database instead of building one")
    parser.add_argument("--keep", type=Path, help="move the built database here afterwards")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure_once(options.measure)))
        return
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-switch-") as folder:
        path = options.db
        build_s = None
        if path is None:
            from llmbench.demo.build import build_demo

            path = Path(folder) / "switch.db"
            started = time.perf_counter()
            build_demo(path, calls=options.calls, now=NOW)
            build_s = round(time.perf_counter() - started, 1)
        load_before = os.getloadavg()[0]
        samples = []
        for _ in range(options.runs):
            result = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            samples.append(json.loads(result.stdout.strip().splitlines()[-1]))
        from llmbench.store.db import open_db

        with open_db(path, create=False) as store:
            calls = int(store.read().execute("SELECT count(*) FROM calls").fetchone()[0])
        painted = [sample["painted_ms"] for sample in samples]
        stopped = [sample["first_pane_stopped_ms"] for sample in samples]
        report = {
            "calls": calls,
            "file_mb": round(path.stat().st_size / 1_000_000, 1),
            "build_s": build_s,
            "runs": len(samples),
            "f6_after_start_painted_ms": {
                "median": round(statistics.median(painted), 1),
                "p95": round(percentile(sorted(painted), 0.95) or 0.0, 1),
                "min": min(painted),
                "max": max(painted),
            },
            "runs_with_f2_reading_at_press": sum(bool(s["first_pane_reads"]) for s in samples),
            "f2_reads_stopped_after_press_ms_median": round(statistics.median(stopped), 1),
            "goal_ms": GOAL_MS,
            "load_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
            "samples": samples,
        }
        if options.keep and options.db is None:
            shutil.move(path, options.keep)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
