"""The Prompts pane on a big library: 1,000 prompts × 20 versions, with notes, labels and calls.

Run: python tests/benchmarks/bench_prompts.py [--prompts 1000] [--versions 20] [--calls 50000]

Builds the library in a temporary database (calls go through the audit log's only insert path,
so they are sealed like real ones), then drives the real app headless at 140x40 with Pilot and
times, from the key press to the moment the pane has put the new data on screen:
- open: switching to the Prompts pane (F2) from another pane, to its first frame (the pane
  keeps what it last showed, so this frame has the library, history and version on it);
- open_fresh: the same switch, to the first frame after the pane has re-read the library, the
  history and the version detail (every visit re-reads in worker threads);
- search: typing into the search box, to the first frame with the filtered library;
- switch: moving the cursor to another version, to the first frame with its detail.
Also reports the database queries alone (library, history, version view). Medians of --runs.

Prints JSON; the goal for open, search and switch is ≤ 50 ms each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GOAL_MS = 50.0
WORDS = [
    "support",
    "billing",
    "refund",
    "triage",
    "summary",
    "extract",
    "classify",
    "translate",
    "answer",
    "draft",
    "review",
    "invoice",
    "churn",
    "onboarding",
    "search",
    "legal",
    "policy",
    "email",
    "chat",
    "agent",
    "report",
]


def build_library(path: Path, prompts: int, versions: int, calls: int) -> None:
    from llmbench.core.models import Variable
    from llmbench.gateway.chain_key import load_chain_key
    from llmbench.services.database import open_store
    from llmbench.store.audit.log import append_calls, database_id
    from llmbench.store.prompts import versions as repo

    rng = random.Random(11)
    store = open_store(path)
    production: list[int] = []

    def write_prompts(indexes: range) -> Callable[[Any], None]:
        def job(db: Any) -> None:
            for index in indexes:
                write_prompt(db, index)

        return job

    def write_prompt(db: Any, index: int) -> None:
        words = rng.sample(WORDS, 3)
        prompt_id = repo.create_prompt(
            db, f"{words[0]}-{words[1]}-{index:04d}",
            description=f"{words[2].title()} for the {words[0]} feature", tags=words[:2],
        )  # fmt: skip
        parent = None
        ids = []
        for number in range(1, versions + 1):
            parent = repo.add_version(
                db,
                prompt_id,
                {
                    "role": f"You are a careful {words[0]} assistant. Revision {number}.",
                    "task": f"{words[1].title()} this: {{{{ input }}}}\n" * (1 + number % 4),
                    "format": "Answer in at most three sentences.",
                },
                variables=[Variable("input", "untrusted", 2000)],
                model="gpt-4o-mini",
                params={"temperature": 0.2},
                author=rng.choice(["maria", "sam", "li"]),
                message=f"Revision {number}: tighten the {rng.choice(WORDS)} wording",
                parent_id=parent,
            )
            ids.append(parent)
        repo.set_label(db, prompt_id, "production", ids[-3], moved_by="maria")
        repo.set_label(db, prompt_id, "staging", ids[-1], moved_by="sam")
        repo.add_note(db, prompt_id, "lesson", f"Keep the {words[2]} phrasing short")
        production.append(ids[-3])

    for start in range(0, prompts, 100):
        store.submit(write_prompts(range(start, min(start + 100, prompts))))
    store.write(lambda db: None)
    key = load_chain_key(database_id(store.read()))
    batch = []
    for n in range(calls):
        batch.append(
            {
                "ts": f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00.000Z",
                "request_id": f"bench-{n}",
                "model_requested": "gpt-4o-mini",
                "model": "gpt-4o-mini",
                "prompt_version_id": rng.choice(production),
                "prompt_tokens": rng.randint(200, 900),
                "completion_tokens": rng.randint(20, 300),
                "cost": 0.0004,
                "latency_ms": rng.uniform(300, 2500),
                "status": "ok",
            }
        )
        if len(batch) == 5000:
            rows, batch = batch, []
            store.submit(lambda db, rows=rows: append_calls(db, key, rows))
    store.write(lambda db: append_calls(db, key, batch))
    store.close()


def time_queries(path: Path, runs: int) -> dict[str, float]:
    from llmbench.services.database import open_store
    from llmbench.services.prompts import library as prompts

    store = open_store(path, create=False)
    try:
        rows = prompts.library(store)
        target = rows[len(rows) // 2]
        history = prompts.history(store, target.id)
        assert history is not None
        timings: dict[str, list[float]] = {"library": [], "search": [], "history": [], "view": []}
        for _ in range(runs):
            for name, work in (
                ("library", lambda: prompts.library(store)),
                ("search", lambda: prompts.library(store, "refund short")),
                ("history", lambda: prompts.history(store, target.id)),
                ("view", lambda: prompts.version_view(store, history.versions[2].id)),
            ):
                started = time.perf_counter()
                work()
                timings[name].append((time.perf_counter() - started) * 1000)
        return {f"query_{k}_ms": round(statistics.median(v), 2) for k, v in timings.items()}
    finally:
        store.close()


async def time_ui(path: Path, runs: int) -> dict[str, float]:
    from textual.app import App

    from llmbench.config import Settings
    from llmbench.services.database import open_store
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.prompts.pane import PromptsScreen

    # When data reaches the widgets, and when frames reach the terminal driver: a figure is
    # the key press to the first frame painted after the data it waits for.
    shown: dict[str, list[float]] = {"library": [], "version": [], "frame": []}
    original_show, original_version = PromptsScreen._show_library, PromptsScreen._show_version
    original_display = App._display

    def show(self: PromptsScreen, *, fresh: bool = False) -> None:
        original_show(self, fresh=fresh)
        shown["library"].append(time.perf_counter())

    def show_version(self: PromptsScreen, view: Any) -> None:
        original_version(self, view)
        shown["version"].append(time.perf_counter())

    def display(app: App[Any], screen: Any, renderable: Any) -> None:
        original_display(app, screen, renderable)
        if renderable is not None and isinstance(app.screen, PromptsScreen):
            shown["frame"].append(time.perf_counter())

    PromptsScreen._show_library = show  # type: ignore[method-assign]
    PromptsScreen._show_version = show_version  # type: ignore[method-assign]
    App._display = display  # type: ignore[method-assign]

    async def first(kind: str, since: float) -> float:
        deadline = time.perf_counter() + 10
        while not any(moment >= since for moment in shown[kind]):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no {kind} after the key")
            await asyncio.sleep(0.0005)
        return min(moment for moment in shown[kind] if moment >= since)

    async def painted(kind: str, since: float) -> float:
        """Milliseconds from `since` to the first frame after `kind` data was shown."""
        return (await first("frame", await first(kind, since)) - since) * 1000

    store = open_store(path, create=False)
    app = LLMBenchApp(store, Settings(), db_label="bench.db")
    samples: dict[str, list[float]] = {"open": [], "open_fresh": [], "search": [], "switch": []}
    queries = ["refund", "billing", "triage", "legal"]
    async with app.run_test(size=(140, 40)) as pilot:
        await first("version", 0)
        await pilot.pause(0.5)
        for index in range(runs):
            await pilot.press("f3")
            await pilot.pause(0.3)
            started = time.perf_counter()
            await pilot.press("f2")
            samples["open"].append((await first("frame", started) - started) * 1000)
            await first("library", started)
            samples["open_fresh"].append(await painted("version", started))
            await pilot.pause(0.3)

            await pilot.press("slash")
            await pilot.pause(0.2)
            started = time.perf_counter()
            await pilot.press(queries[index % len(queries)][0])
            samples["search"].append(await painted("library", started))
            await pilot.pause(0.2)
            await pilot.press("escape", "escape")
            await pilot.pause(0.3)

            app.screen.query_one("#versions-table").focus()
            await pilot.pause(0.2)
            started = time.perf_counter()
            await pilot.press("down" if index % 2 == 0 else "up")
            samples["switch"].append(await painted("version", started))
            await pilot.pause(0.2)
    store.close()
    return {f"ui_{k}_ms": round(statistics.median(v), 1) for k, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-") as folder:
        import os

        os.environ["LLMBENCH_HOME"] = str(Path(folder) / "home")
        path = Path(folder) / "library.db"
        started = time.perf_counter()
        build_library(path, options.prompts, options.versions, options.calls)
        built_s = time.perf_counter() - started
        report: dict[str, object] = {
            "prompts": options.prompts,
            "versions_per_prompt": options.versions,
            "calls": options.calls,
            "build_s": round(built_s, 1),
            **time_queries(path, options.runs),
            **asyncio.run(time_ui(path, options.runs)),
            "goal_ms": GOAL_MS,
            "runs": options.runs,
        }
    goals = ("ui_open_ms", "ui_search_ms", "ui_switch_ms")
    report["met"] = all(float(report[key]) <= GOAL_MS for key in goals)  # type: ignore[arg-type]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
