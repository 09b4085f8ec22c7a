"""Grading a 10,000-item queue by keystroke.

Run: python tests/benchmarks/bench_grade.py [--items 10000] [--grades 60]

Builds a run of --items results (each with a case, an output of a few hundred characters and
four checks) and a three-dimension 1-5 rubric in a temporary database, then drives the real app
headless at 140x40 with Pilot and times:
- open: `g` on the F4 pane to the first frame showing the queue's first item (the queue is
  built and ordered in a worker: failed checks first, then the rest);
- next_item: the digit that completes an item's grade (the grade is queued for the writer) to
  the first frame painted with the next item on it — the figure the goal is about;
- dimension: a digit that moves on to the next dimension, to its frame;
- undo: `u` back to the previous item, to its frame.
Also reports how long the writer took to land the grades. Medians; prints JSON. Goal:
next_item ≤ 50 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_MS = 50.0
OUTPUT = (
    "Thanks for reaching out. I have refunded the duplicate charge of {amount} EUR to the card "
    "ending {card}; banks usually show it within three to five working days. If it has not "
    "arrived by {day}, reply to this message and I will chase it with our payments team. "
    "Your order {order} itself is unaffected and ships on schedule."
)


def build(path: Path, items: int) -> int:
    from llmbench.core.grading.rubrics import rubric_from_mapping
    from llmbench.store.db import open_db
    from llmbench.store.grading.grades import save_rubric

    rubric = rubric_from_mapping(
        {
            "name": "helpfulness",
            "dimensions": [
                {"name": name, "scale": "1-5", "examples": {"5": f"A model {name} answer."}}
                for name in ("relevance", "correctness", "tone")
            ],
        }
    )
    with open_db(path) as store:

        def job(db: Any) -> int:
            rubric_id = save_rubric(db, rubric)
            db.execute("INSERT INTO datasets (name, created_at) VALUES ('tickets', 'now')")
            db.conn.executemany(
                "INSERT INTO cases (id, dataset_id, vars, created_at) VALUES (?, 1, ?, 'now')",
                [
                    (n, json.dumps({"ticket": f"I was charged twice for order {n}. Help?"}))
                    for n in range(1, items // 2 + 1)
                ],
            )
            db.execute("INSERT INTO runs (kind, name, created_at) VALUES ('compare', 'big', 'now')")
            db.conn.executemany(
                "INSERT INTO results (run_id, model, case_id, output, status, created_at)"
                " VALUES (1, ?, ?, ?, 'ok', 'now')",
                [
                    (
                        ("model-a", "model-b")[n % 2],
                        n // 2 + 1,
                        OUTPUT.format(amount=n % 90 + 10, card=1000 + n, day="Friday", order=n),
                    )
                    for n in range(items)
                ],
            )
            db.conn.executemany(
                "INSERT INTO checks (result_id, kind, passed, created_at) VALUES (?, ?, ?, 'now')",
                [
                    (n, kind, int(n % 7 != 0 or kind != "regex"))
                    for n in range(1, items + 1)
                    for kind in ("contains", "regex", "max-length", "is-json")
                ],
            )
            return rubric_id

        return store.write(job)


async def time_ui(path: Path, grades: int) -> dict[str, float]:
    from textual.app import App

    from llmbench.config import GeneralSettings, Settings
    from llmbench.services.database import open_store
    from llmbench.tui.app import LLMBenchApp
    from llmbench.tui.screens.grade.session import GradeSessionScreen

    shown: list[tuple[float, str]] = []
    frames: list[float] = []
    original_refresh, original_display = GradeSessionScreen.refresh_view, App._display

    def refresh_view(self: GradeSessionScreen) -> None:
        original_refresh(self)
        current = self.session.current
        if current is not None and current.key in self.bodies:
            shown.append((time.perf_counter(), current.key))

    def display(app: App[Any], screen: Any, renderable: Any) -> None:
        original_display(app, screen, renderable)
        if renderable is not None:
            frames.append(time.perf_counter())

    GradeSessionScreen.refresh_view = refresh_view  # type: ignore[method-assign]
    App._display = display  # type: ignore[method-assign]

    async def painted(since: float, key: str | None = None) -> float:
        """Milliseconds from `since` to the first frame after an item (`key`) was shown."""
        deadline = time.perf_counter() + 30
        while True:
            moments = [t for t, k in shown if t >= since and (key is None or k == key)]
            if moments and any(f >= moments[0] for f in frames):
                return (min(f for f in frames if f >= moments[0]) - since) * 1000
            if time.perf_counter() > deadline:
                raise RuntimeError("the item never reached the screen")
            await asyncio.sleep(0.0005)

    store = open_store(path, create=False)
    settings = Settings(general=GeneralSettings(reviewer="bench"))
    app = LLMBenchApp(store, settings, db_label="bench.db")
    samples: dict[str, list[float]] = {"next_item": [], "dimension": [], "undo": []}
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f4")
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        started = time.perf_counter()
        await pilot.press("g")
        open_ms = await painted(started)
        screen = app.screen
        assert isinstance(screen, GradeSessionScreen)
        total = len(screen.session.entries)
        for index in range(grades):
            await pilot.pause(0.05)  # a reviewer reads; prefetching happens meanwhile
            started = time.perf_counter()
            await pilot.press(str(index % 5 + 1))
            samples["dimension"].append(await painted(started))
            await pilot.press("3")
            await pilot.pause(0.02)
            following = screen.session.entries[screen.session.position + 1].key
            started = time.perf_counter()
            await pilot.press("4")
            samples["next_item"].append(await painted(started, following))
            if index % 10 == 9:
                await pilot.pause(0.05)
                back = screen.session.entries[screen.session.position - 1].key
                started = time.perf_counter()
                await pilot.press("u")
                samples["undo"].append(await painted(started, back))
                await pilot.press("4")
        started = time.perf_counter()
        store.write(lambda db: None)
        drain_ms = (time.perf_counter() - started) * 1000
    written = store.read().execute("SELECT count(*) FROM grades").fetchone()[0]
    store.close()
    return {
        "queue_items": total,
        "grades_written": written,
        "ui_open_ms": round(open_ms, 1),
        **{f"ui_{k}_ms": round(statistics.median(v), 1) for k, v in samples.items()},
        "ui_next_item_max_ms": round(max(samples["next_item"]), 1),
        "writer_drain_ms": round(drain_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--grades", type=int, default=60)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmbench-bench-") as folder:
        import os

        os.environ["LLMBENCH_HOME"] = str(Path(folder) / "home")
        path = Path(folder) / "grade.db"
        started = time.perf_counter()
        build(path, options.items)
        report: dict[str, object] = {
            "items": options.items,
            "build_s": round(time.perf_counter() - started, 1),
            **asyncio.run(time_ui(path, options.grades)),
            "goal_ms": GOAL_MS,
        }
    report["next_item_within_goal"] = report["ui_next_item_ms"] <= GOAL_MS  # type: ignore[operator]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
