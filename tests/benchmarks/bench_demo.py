"""How long `llmbench demo` takes to build its database, at the default size and at 100k calls.

Run: python tests/benchmarks/bench_demo.py [--sizes 20000 100000] [--runs 3]

Each build goes into a fresh temporary folder with a fixed seed and `now`, as the command does
(one writer job, one transaction, then the rename onto the target). Generation (pure Python)
and the whole build are timed separately; the best of the runs is reported, with the median.

Prints JSON: {"20000": {"build_s", "build_median_s", "generate_s", "file_mb"}, "100000": ...,
"goal_s": 10, ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from llmbench.demo import content as demo_content
from llmbench.demo.build import build_demo

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
GOAL_S = 10.0  # for the default 20,000 calls


def measure(calls: int, runs: int) -> dict[str, float | int]:
    builds: list[float] = []
    generations: list[float] = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        demo_content.generate(calls=calls, now=NOW)
        generations.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "demo.db"
            started = time.perf_counter()
            summary = build_demo(path, calls=calls, now=NOW)
            builds.append(time.perf_counter() - started)
            size = path.stat().st_size
            assert summary.calls == calls, summary
    return {
        "calls": calls,
        "build_s": round(min(builds), 3),
        "build_median_s": round(statistics.median(builds), 3),
        "generate_s": round(min(generations), 3),
        "write_s": round(min(builds) - min(generations), 3),
        "file_mb": round(size / 1_000_000, 1),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report: dict[str, object] = {str(size): measure(size, args.runs) for size in args.sizes}
    report["goal_s"] = GOAL_S
    report["python"] = sys.version.split()[0]
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
