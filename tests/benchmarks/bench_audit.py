"""The audit browser (F6) on a large log: open, page, jump, filter, search, and memory.

Run: python tests/benchmarks/bench_audit.py [--calls 1000000] [--db PATH] [--keep PATH]

Without --db it builds a demo database of --calls calls (the demo generator, which writes
through store.audit.append_calls; 1,000,000 calls take about four minutes and 2 GB of disk) in
a temporary folder, deleted afterwards unless --keep names where to move it. The figures come
from a fresh process that only opens the file, so the build's memory is not counted.

Each figure is the median of several tries, in milliseconds, measured two ways: `store_*` is
the query behind the action alone; `tui_*` is the action in the real app (headless Pilot), from
the action a key runs until the log holds the new rows and the app is idle (page down: the
action and drawing the frame, as it needs no read while the cached window lasts). Opening F6 is
also timed to the first frame painted with the rows on it (`tui_open_painted*`): a frame Textual
holds back (it holds a mode switch's frames for 50 ms) does not count, and no idle wait rounds it
up. Prints JSON with the goals beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
GOALS_MS = {
    "open_first_screen": 100,
    "page_down": 20,
    "jump_to_end": 100,
    "filter_model_status": 150,
    "search": 200,
}
GOAL_MEMORY_MB = 250
FILTER = "model:gpt-4o status:error"
SEARCH = "refund"
TRIES = 7


def _median_ms(action: Callable[[], Any], tries: int = TRIES) -> float:
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def _store_figures(path: Path) -> dict[str, float]:
    from llmbench.core.audit.query import parse
    from llmbench.store.audit import browser as audit_browser
    from llmbench.store.db import open_db

    started = time.perf_counter()
    store = open_db(path, create=False)
    db = store.read()
    everything = audit_browser.compile_filter(db, parse(""), NOW)
    first = audit_browser.page(db, everything, limit=100)
    opened = (time.perf_counter() - started) * 1000
    keys = [first.rows[-1].key]

    def page_down() -> None:
        page = audit_browser.page(db, everything, after=keys[-1], limit=100)
        keys.append(page.rows[-1].key)

    def compiled(text: str) -> Any:
        return audit_browser.compile_filter(db, parse(text), NOW)

    figures = {
        "store_open_first_screen": round(opened, 2),
        "store_page_down": _median_ms(page_down, 50),
        "store_jump_to_end": _median_ms(
            lambda: audit_browser.page(db, everything, direction="newer", limit=100)
        ),
        "store_filter_model_status": _median_ms(
            lambda: audit_browser.page(db, compiled(FILTER), limit=100)
        ),
        "store_search": _median_ms(lambda: audit_browser.page(db, compiled(SEARCH), limit=100)),
        "store_count_all": _median_ms(lambda: audit_browser.count(db, everything)),
        "store_count_filter": _median_ms(lambda: audit_browser.count(db, compiled(FILTER))),
        "store_count_search_capped": _median_ms(lambda: audit_browser.count(db, compiled(SEARCH))),
    }
    store.close()
    return figures


async def _tui_figures(path: Path) -> dict[str, float]:
    from textual.app import App
    from textual.pilot import Pilot
    from textual.widgets import Input

    from llmbench.config import GeneralSettings, Settings
    from llmbench.store.db import open_db
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.audit.pane import AuditScreen
    from llmbench.tui.widgets.call_log import CallLog

    store = open_db(path, create=False)
    app = LLMBenchApp(store, Settings(general=GeneralSettings(reviewer="bench")), clock=lambda: NOW)

    # When frames with the audit log's rows on them reach the terminal driver.
    frames: list[float] = []
    original_display = App._display

    def display(shown: App[Any], screen: Any, renderable: Any) -> None:
        original_display(shown, screen, renderable)
        if renderable is None or shown._batch_count or not isinstance(screen, AuditScreen):
            return  # nothing drawn, or a frame held back (it never reaches the terminal)
        found = screen.query(CallLog)
        if found and found.first().loaded and found.first().rows:
            frames.append(time.perf_counter())

    App._display = display  # type: ignore[method-assign]

    async def painted(since: float) -> float:
        """Milliseconds from `since` to the first frame painted with the log's rows."""
        while not any(moment >= since for moment in frames):
            await asyncio.sleep(0.0005)
            if time.perf_counter() - since > 30:
                raise TimeoutError("no frame of the audit pane in 30 s")
        return (min(moment for moment in frames if moment >= since) - since) * 1000

    async def until(pilot: Pilot[None], done: Callable[[], bool]) -> float:
        started = time.perf_counter()
        while not done():
            await asyncio.sleep(0.0005)
            if time.perf_counter() - started > 30:
                raise TimeoutError("the audit pane did not answer in 30 s")
        await pilot.pause()
        return (time.perf_counter() - started) * 1000

    figures: dict[str, list[float]] = {name: [] for name in GOALS_MS}
    extra: dict[str, float] = {}
    async with app.run_test(size=(140, 40)) as pilot:
        # The app has started and shown its first pane (Prompts) before F6 is pressed, as a
        # user would see it; the first visit also pays Textual's one-time start of the mode.
        await until(pilot, lambda: getattr(app.screen, "loaded", False))
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        started = time.perf_counter()
        app.action_show_pane("audit")  # what F6 runs
        log: CallLog | None = None
        while log is None:
            await asyncio.sleep(0.0005)
            found = app.screen.query(CallLog)
            log = found.first() if found else None
        await until(pilot, lambda: log is not None and log.loaded and bool(log.rows))
        first_visit = (time.perf_counter() - started) * 1000
        extra["open_painted_first_visit"] = round(await painted(started), 2)
        await app.workers.wait_for_complete()
        painted_visits = []
        for _ in range(TRIES):  # later visits: back to F2 and F6 again
            app.action_show_pane("prompts")
            await pilot.pause(0.3)
            started = time.perf_counter()
            app.action_show_pane("audit")
            await until(pilot, lambda: app.screen.query(CallLog).first().loaded)
            figures["open_first_screen"].append((time.perf_counter() - started) * 1000)
            painted_visits.append(await painted(started))
            await app.workers.wait_for_complete()
        extra["open_first_visit"] = round(first_visit, 2)
        extra["open_painted"] = round(statistics.median(painted_visits), 2)

        for _ in range(TRIES * 3):
            started = time.perf_counter()
            log.action_page(1)  # what pagedown runs
            for y in range(log.size.height):  # and the frame it draws
                log.render_line(y)
            figures["page_down"].append((time.perf_counter() - started) * 1000)
            await app.workers.wait_for_complete()

        bar = app.screen.query_one("#audit-query", Input)
        for _ in range(TRIES):
            log.action_start()
            await until(pilot, lambda: log.loaded and log.at_top and log.cursor == 0)
            await app.workers.wait_for_complete()
            started = time.perf_counter()
            log.action_end()
            await until(pilot, lambda: log.loaded and log.at_bottom and bool(log.rows))
            figures["jump_to_end"].append((time.perf_counter() - started) * 1000)
            await app.workers.wait_for_complete()

        for name, text in (("filter_model_status", FILTER), ("search", SEARCH)):
            for _ in range(TRIES):
                bar.value = ""
                app.screen._apply_typed()
                await until(pilot, lambda: log.loaded)
                await app.workers.wait_for_complete()
                bar.value = text
                started = time.perf_counter()
                app.screen._apply_typed()  # what enter in the bar (or a pause in typing) runs
                await until(pilot, lambda: log.loaded and bool(log.rows))
                figures[name].append((time.perf_counter() - started) * 1000)
                await app.workers.wait_for_complete()
    store.close()
    App._display = original_display  # type: ignore[method-assign]
    medians = {
        f"tui_{name}": round(statistics.median(values), 2) for name, values in figures.items()
    }
    return {**medians, **{f"tui_{name}": value for name, value in extra.items()}}


def _memory_mb() -> dict[str, float]:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    anon_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            anon_kb = int(line.split()[1])
    return {
        "peak_rss_mb": round(peak_kb / 1024, 1),
        # The database file is memory-mapped (mmap_size): its pages count in RSS but are the
        # page cache's, shared and dropped under pressure. RssAnon is the process's own memory.
        "rss_anon_mb": round(anon_kb / 1024, 1),
    }


def measure(path: Path) -> dict[str, Any]:
    figures: dict[str, Any] = _store_figures(path)
    figures.update(asyncio.run(_tui_figures(path)))
    figures.update(_memory_mb())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="measure this database instead of building one")
    parser.add_argument("--keep", type=Path, help="move the built database here afterwards")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options.measure)))
        return
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-audit-") as folder:
        path = options.db
        build_s = None
        if path is None:
            from llmbench.demo.build import build_demo

            path = Path(folder) / "audit.db"
            started = time.perf_counter()
            build_demo(path, calls=options.calls, now=NOW)
            build_s = round(time.perf_counter() - started, 1)
        result = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        from llmbench.store.db import open_db

        with open_db(path, create=False) as store:
            calls = int(store.read().execute("SELECT count(*) FROM calls").fetchone()[0])
        report = {
            "calls": calls,
            "file_mb": round(path.stat().st_size / 1_000_000, 1),
            "build_s": build_s,
            **json.loads(result.stdout.strip().splitlines()[-1]),
            "goals_ms": GOALS_MS,
            "goal_memory_mb": GOAL_MEMORY_MB,
        }
        if options.keep and options.db is None:
            shutil.move(path, options.keep)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
