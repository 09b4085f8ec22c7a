"""Every key F1 lists, in every pane and screen: from the key to the frame painted with its result.

Run: python tests/benchmarks/bench_keys.py [--db FILE] [--calls 20000] [--runs 9]
         [--panes library,editor,...] [--json-only] [--list]

Builds the demo database (`--calls` calls; or reads a copy of `--db`), then drives the real app
headless at 140x40. Each scene of tests/benchmarks/bench_keys_table.py is reached by real keys
(a pane's F-key, then the keys that open a screen); for every key F1 lists there, `--runs` times:
restore the scene, post the key, and time to the end of the last frame painted before the app is
quiet again (no message queued, no worker running, nothing left to paint): the frame with the
key's whole result, the data a worker read included (tests/support/key_timing.py says why
headless and how frames are clocked). The first run of each key is also reported alone ("cold").

A key whose result is another screen or pane is an "open" (goal: p95 ≤ 100 ms); a grading key
(digits, y/n, a/b/=, j/k, u in a grading session) ≤ 33 ms p95; every other key ≤ 50 ms p95; and
each ≤ 2x the minimal Textual app's same kind of action (a cursor move; for an open, its screen
push), timed in the same run. The goals are judged on the settled time; the first frame after
the key is reported beside it.
Global keys (F1–F8, ctrl+o, ctrl+p, ctrl+q) are timed once, in the scene the table names.
Prints a table, then JSON with every figure and the keys that miss a goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_keys_scenes import (
    Measured,
    SceneDriver,
    key_identities,
)
from tests.benchmarks.bench_keys_table import (
    GLOBAL_KEYS,
    GRADING_KEYS,
    KEY_TABLE,
    SCENES,
    SKIPPED,
)
from tests.support import key_timing, textual_idle

DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIZE = (140, 40)
GOAL_MS = {"open": 100.0, "key": 50.0, "grading": 33.0}
RATIO_GOAL = 2.0


def prepare_db(folder: Path, source: Path | None, calls: int) -> Path:
    """A private copy of `source` (keys written there stay there), or a fresh demo file."""
    path = folder / "keys.db"
    if source is not None:
        shutil.copy(source, path)
        return path
    from llmbench.demo.build import build_demo

    build_demo(path, seed=7, calls=calls, now=DEMO_NOW)
    return path


def machine_load() -> dict[str, float | int]:
    """The cores and the 1-minute load average (what else the machine was running)."""
    one_minute = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    return {"cores": os.cpu_count() or 0, "load_1m": round(one_minute, 2)}


def kind_goal(measured: Measured) -> tuple[str, float]:
    if measured.opened:
        return "open", GOAL_MS["open"]
    if measured.identity in GRADING_KEYS.get(measured.scene, ()):
        return "grading", GOAL_MS["grading"]
    return "key", GOAL_MS["key"]


async def run_app(db: Path, runs: int, scenes: list[str]) -> list[Measured]:
    from llmbench.config import GeneralSettings, Settings
    from llmbench.services.database import open_store
    from llmbench.tui.app import LLMBenchApp

    store = open_store(db, create=False)
    settings = Settings(general=GeneralSettings(reviewer="maria.chen"))
    app = LLMBenchApp(store, settings, db_label="keys.db", clock=lambda: DEMO_NOW)
    results: list[Measured] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            clock = key_timing.FrameClock(app)
            driver = SceneDriver(pilot, clock)
            await key_timing.quiet(pilot)
            for name in scenes:
                scene = SCENES[name]
                wanted = list(KEY_TABLE[name]) + [
                    identity for identity, where in GLOBAL_KEYS.items() if where == name
                ]
                for identity in wanted:
                    reason = SKIPPED.get((name, identity))
                    if reason is not None:
                        results.append(Measured(name, identity, "", note=reason))
                        continue
                    try:
                        results.append(await driver.measure(scene, identity, runs))
                    except Exception as error:  # one key's failure is reported, not fatal
                        note = f"failed: {type(error).__name__}: {error}"
                        results.append(Measured(name, identity, "", note=note))
                        driver.forget()
                    done = results[-1]
                    summary = (
                        done.note or f"{len(done.samples)} runs, max {max(done.samples):.1f} ms"
                    )
                    print(f"{name} {identity}: {summary}", file=sys.stderr, flush=True)
    finally:
        store.close()
    return results


def summarise(results: list[Measured], minimal: dict[str, key_timing.Figures]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    misses: list[dict[str, Any]] = []
    for measured in results:
        row: dict[str, Any] = {
            "scene": measured.scene,
            "key": measured.key,
            "binding": measured.identity,
        }
        if measured.note:
            row["not_timed"] = measured.note
            rows.append(row)
            continue
        kind, goal = kind_goal(measured)
        stats = key_timing.figures(measured.samples)
        first = key_timing.figures(measured.first)
        base = minimal["open" if kind == "open" else "key"].p95_ms
        ratio = round(stats.p95_ms / base, 2) if base else None
        row.update(
            kind=kind,
            median_ms=stats.median_ms,
            p95_ms=stats.p95_ms,
            cold_ms=stats.first_ms,
            max_ms=stats.max_ms,
            first_frame_median_ms=first.median_ms,
            first_frame_p95_ms=first.p95_ms,
            runs=stats.runs,
            ratio_to_textual=ratio,
            goal_ms=goal,
        )
        problems = []
        if stats.p95_ms > goal:
            problems.append(f"p95 {stats.p95_ms} ms > {goal:g} ms")
        if ratio is not None and ratio > RATIO_GOAL:
            problems.append(f"{ratio}x Textual's {kind} > {RATIO_GOAL:g}x")
        row["met"] = not problems
        rows.append(row)
        if problems:
            misses.append({"scene": measured.scene, "key": measured.key, "why": problems})
    return {
        "minimal_textual": {kind: vars(value) for kind, value in minimal.items()},
        "keys": rows,
        "misses": misses,
        "timed": sum(1 for row in rows if "p95_ms" in row),
        "not_timed": sum(1 for row in rows if "not_timed" in row),
    }


def table(report: dict[str, Any]) -> str:
    machine = report.get("machine", {})
    lines = [
        "settled: to the last frame before the app is quiet (the whole result, goal applies);"
        " first: to the first frame after the key; xTx: settled p95 / the minimal app's p95",
        "machine: "
        + ", ".join(
            f"{when} {value.get('cores')} cores, load {value.get('load_1m')}"
            for when, value in machine.items()
        ),
        f"{'scene':<18} {'key':<12} {'binding':<28} {'kind':<7} {'med':>7} {'p95':>7} "
        f"{'cold':>7} {'1st p95':>7} {'xTx':>6}  goal",
    ]
    for kind, value in report["minimal_textual"].items():
        lines.append(
            f"{'minimal textual':<18} {kind:<12} {'':<28} {kind:<7} {value['median_ms']:>7.1f} "
            f"{value['p95_ms']:>7.1f} {value['first_ms']:>7.1f} {'':>7} {1.0:>6.2f}"
        )
    for row in report["keys"]:
        head = f"{row['scene']:<18} {row['key'][:12]:<12} {row['binding'][:28]:<28}"
        if "not_timed" in row:
            lines.append(f"{head} not timed: {row['not_timed']}")
            continue
        lines.append(
            f"{head} {row['kind']:<7} {row['median_ms']:>7.1f} {row['p95_ms']:>7.1f} "
            f"{row['cold_ms']:>7.1f} {row['first_frame_p95_ms']:>7.1f} "
            f"{row['ratio_to_textual'] or 0:>6.2f}  "
            f"{'ok' if row['met'] else 'MISS'}"
        )
    return "\n".join(lines)


async def list_scenes(db: Path, scenes: list[str]) -> dict[str, list[str]]:
    """What F1 lists in each scene, as the table's identities (to write or check the table)."""
    from llmbench.config import GeneralSettings, Settings
    from llmbench.services.database import open_store
    from llmbench.tui.app import LLMBenchApp

    store = open_store(db, create=False)
    app = LLMBenchApp(
        store,
        Settings(general=GeneralSettings(reviewer="maria.chen")),
        db_label="keys.db",
        clock=lambda: DEMO_NOW,
    )
    found: dict[str, list[str]] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            driver = SceneDriver(pilot, key_timing.FrameClock(app))
            await key_timing.quiet(pilot)
            for name in scenes:
                await driver.reach(SCENES[name])
                found[name] = key_identities(app, pane_only=True)
            await driver.reach(SCENES["library"])
            found["(everywhere)"] = key_identities(app, pane_only=False, only_global=True)
    finally:
        store.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database to copy instead of the demo")
    parser.add_argument("--calls", type=int, default=20_000, help="the demo's calls")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--panes", default="", help="scenes to time, comma-separated (all)")
    parser.add_argument("--json-only", action="store_true")
    parser.add_argument("--list", action="store_true", help="print what F1 lists per scene")
    options = parser.parse_args()
    scenes = [name for name in options.panes.split(",") if name] or list(SCENES)
    unknown = [name for name in scenes if name not in SCENES]
    if unknown:
        parser.error(f"unknown scenes {unknown}; known: {', '.join(SCENES)}")
    textual_idle.install()
    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="llmbench-keys-") as folder:
        os.environ["LLMBENCH_HOME"] = str(Path(folder) / "home")
        started = time.perf_counter()
        db = prepare_db(Path(folder), options.db, options.calls)
        build_s = round(time.perf_counter() - started, 1)
        if options.list:
            print(json.dumps(asyncio.run(list_scenes(db, scenes)), indent=1))
            return
        minimal = asyncio.run(key_timing.time_minimal(options.runs, SIZE))
        results = asyncio.run(run_app(db, options.runs, scenes))
    report = {"db": str(options.db or f"demo, {options.calls} calls"), "build_s": build_s}
    # Figures from a busy machine are not the app's: the load is said beside them.
    report["machine"] = {"before": load_before, "after": machine_load()}
    report.update(summarise(results, minimal))
    if not options.json_only:
        print(table(report))
        print()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
