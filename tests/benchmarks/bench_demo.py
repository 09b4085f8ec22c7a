"""How long `llmbench demo` takes to build its database and how much memory it needs, at the
default size and at 100k calls, or at any size asked for (issue #21: 1M calls in 60 s, 10M in
10 minutes, both in 500 MB).

Run: python tests/benchmarks/bench_demo.py [--sizes 20000 100000] [--runs 3]
     python tests/benchmarks/bench_demo.py --calls 1000000 [--runs 1] [--folder /big/disk]
                                           [--keep big.db]

Each build runs in a fresh process (so its peak resident memory is its own) into a fresh
temporary folder, with a fixed seed and `now`, as the command does (one transaction, the calls
drawn, sealed and written a slice at a time, then the rename onto the target). The best of the
runs is reported, with the median; `cpu_s` is the building process's CPU time (user and system,
every thread) and `draw_cpu_s` the drawing and sealing processes' together (a demo beyond one
slice is drawn by a second process and sealed by a third), which a machine shared with other
work leaves closer to the truth than the wall clock; `peak_rss_mb` is the building process's
peak resident memory and `draw_peak_rss_mb` the larger of the other two's.
`--generation` also times drawing the calls alone, without writing them. `--keep PATH` moves the
last build there instead of deleting it (the 10M file the other benchmarks then read).

Prints JSON: {"20000": {"build_s", "build_median_s", "cpu_s", "draw_cpu_s", "peak_rss_mb",
"draw_peak_rss_mb", "file_mb", "generate_s"?}, "100000": ..., "goals": {...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
# Wall-clock goals by size (issue #21), and the peak memory every size must stay under.
GOALS_S = {20_000: 10.0, 1_000_000: 60.0, 10_000_000: 600.0}
GOAL_RSS_MB = 500


def one_build(calls: int, folder: str | None, keep: Path | None = None) -> dict[str, float]:
    """Build once in this process: wall and CPU seconds, peak RSS, file size."""
    from llmbench.demo.build import build_demo

    with tempfile.TemporaryDirectory(dir=folder) as where:
        path = Path(where) / "demo.db"
        started, cpu = time.perf_counter(), time.process_time()
        summary = build_demo(path, calls=calls, now=NOW)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        # The optimizer's demo prompt adds its own calls on top of the story's `calls`.
        assert summary.calls >= calls, summary
        size = path.stat().st_size
        if keep is not None:
            shutil.move(path, keep)
    drawing = resource.getrusage(resource.RUSAGE_CHILDREN)  # drawing and sealing, when they ran
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "draw_cpu_s": drawing.ru_utime + drawing.ru_stime,
        "draw_peak_rss_mb": drawing.ru_maxrss / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "file_mb": size / 1_000_000,
    }


def one_generation(calls: int) -> dict[str, float]:
    """Draw the calls a slice at a time and drop them: what generating costs alone."""
    from llmbench.demo import content as demo_content

    started = time.perf_counter()
    _content, stream = demo_content.plan(calls=calls, now=NOW)
    drawn = sum(len(chunk) for chunk in stream.chunks())
    assert drawn >= calls - demo_content.run_call_count(), drawn
    return {"wall_s": time.perf_counter() - started}


def _in_a_process(
    what: str, calls: int, folder: str | None, keep: Path | None = None
) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", what, "--calls", str(calls)]
    if folder:
        command += ["--folder", folder]
    if keep is not None:
        command += ["--keep", str(keep)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def measure(
    calls: int, runs: int, folder: str | None, generation: bool, keep: Path | None = None
) -> dict[str, float]:
    builds = [_in_a_process("build", calls, folder, keep) for _ in range(runs)]
    best = min(builds, key=lambda run: run["wall_s"])
    report: dict[str, float] = {
        "calls": calls,
        "build_s": round(best["wall_s"], 3),
        "build_median_s": round(statistics.median(run["wall_s"] for run in builds), 3),
        "cpu_s": round(best["cpu_s"], 3),
        "draw_cpu_s": round(best["draw_cpu_s"], 3),
        "peak_rss_mb": round(max(run["peak_rss_mb"] for run in builds), 1),
        "draw_peak_rss_mb": round(max(run["draw_peak_rss_mb"] for run in builds), 1),
        "file_mb": round(best["file_mb"], 1),
        "runs": runs,
    }
    if generation:
        report["generate_s"] = round(
            min(_in_a_process("generate", calls, None)["wall_s"] for _ in range(runs)), 3
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--calls", type=int, help="one size (instead of --sizes)")
    parser.add_argument("--runs", type=int, help="builds per size (3; 1 with --calls)")
    parser.add_argument("--folder", help="where the temporary files go (a 10M demo is ~5 GB)")
    parser.add_argument("--generation", action="store_true", help="also time generation alone")
    parser.add_argument("--keep", type=Path, help="move the (last) build here, not deleted")
    parser.add_argument("--one", choices=("build", "generate"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a child run: one measurement, as JSON
        if args.one == "build":
            found = one_build(args.calls, args.folder, args.keep)
        else:
            found = one_generation(args.calls)
        json.dump(found, sys.stdout)
        return
    sizes = [args.calls] if args.calls else args.sizes
    runs = args.runs or (1 if args.calls else 3)
    report: dict[str, object] = {
        str(size): measure(size, runs, args.folder, args.generation, args.keep) for size in sizes
    }
    report["goals"] = {"build_s": {str(k): v for k, v in GOALS_S.items()}, "rss_mb": GOAL_RSS_MB}
    report["python"] = sys.version.split()[0]
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
