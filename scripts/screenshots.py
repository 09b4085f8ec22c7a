"""Write screenshots/<pane>.svg for each TUI pane, made from a freshly built demo database.

Run: python scripts/screenshots.py [--out screenshots] [--pane MODE ...]
(--pane models: that pane's own picture only, e.g. after changing one pane.)

Deterministic: a fixed seed, a fixed `now`, a fixed reviewer and a 140x40 terminal, with default
settings rather than the user's config file, so the pictures change only when the code does.
The database lives in a temporary folder and is shown as "demo.db"; it holds no keys.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from textual.pilot import Pilot

from llmbench.config import GeneralSettings, Settings
from llmbench.demo.build import build_demo
from llmbench.store.db import open_db
from llmbench.tui.app import PANES, LLMBenchApp

ROOT = Path(__file__).resolve().parents[1]
SIZE = (140, 40)
DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DEMO_SEED = 7
REVIEWER = "maria.chen"
LOAD_TIMEOUT_S = 30.0


async def _wait_for_pane(pilot: Pilot[None]) -> None:
    """Until the pane has shown its data and every widget has laid it out."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOAD_TIMEOUT_S
    while not getattr(app.screen, "loaded", False) or any(w.is_running for w in app.workers):
        if loop.time() > deadline:
            raise TimeoutError(f"{app.current_mode} did not load in {LOAD_TIMEOUT_S} s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    # Tables size their columns when idle, after the rows arrive.
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def _wait_for_screen(pilot: Pilot[None]) -> None:
    """Until a pushed screen has opened and its workers (reads, the preview) are done."""
    app = pilot.app
    opened_from = app.screen_stack[0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOAD_TIMEOUT_S
    while app.screen is opened_from or any(w.is_running for w in app.workers):
        if loop.time() > deadline:
            raise TimeoutError(f"{app.screen!r} did not settle in {LOAD_TIMEOUT_S} s")
        await pilot.pause(0.05)
    await pilot.pause(0.3)  # the preview waits for typing to pause before it renders
    await app.workers.wait_for_complete()
    await pilot.pause()


async def take_screenshots(db_path: Path, out: Path, only: set[str] | None = None) -> list[Path]:
    store = open_db(db_path, create=False)
    settings = Settings(general=GeneralSettings(reviewer=REVIEWER))
    app = LLMBenchApp(store, settings, db_label="demo.db", clock=lambda: DEMO_NOW)
    written = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            for pane in PANES:
                if only is not None and pane.mode not in only:
                    continue
                await pilot.press(pane.key)
                await _wait_for_pane(pilot)
                if pane.mode == "monitor":  # a drift check first, so the alerts list has some
                    await pilot.press("c")
                    await _wait_for_pane(pilot)
                    app.clear_notifications()
                    await pilot.pause()
                written.append(Path(app.save_screenshot(f"{pane.mode}.svg", str(out))))
            if only is not None:
                return written
            # The Prompts pane's two full screens: a diff and the editor with its preview.
            for key, name in (("d", "prompts-diff"), ("e", "prompts-editor")):
                await pilot.press("f2")
                await _wait_for_pane(pilot)
                while getattr(app.screen, "shown", None) is None:  # the version detail
                    await pilot.pause(0.05)
                await pilot.press(key)
                await _wait_for_screen(pilot)
                written.append(Path(app.save_screenshot(f"{name}.svg", str(out))))
                await pilot.press("escape")
                await pilot.pause(0.2)
            # Grading by keystroke (one digit in: the next dimension is active), then the
            # agreement view. The grading picture replaces the F4 queue overview's.
            for keys, name in ((("g", "4"), "grade"), (("a",), "grade-agreement")):
                await pilot.press("f4")
                await _wait_for_pane(pilot)
                await pilot.press(keys[0])
                await _wait_for_screen(pilot)
                await pilot.press(*keys[1:])
                await pilot.pause()
                written.append(Path(app.save_screenshot(f"{name}.svg", str(out))))
                await pilot.press("escape")
            # The Audit pane's detail of one call: the newest one that mentions a refund.
            await pilot.press("f6")
            await _wait_for_pane(pilot)
            await pilot.press("slash", *"refund", "enter")
            await _wait_for_pane(pilot)
            await pilot.press("enter")
            await _wait_for_screen(pilot)
            written.append(Path(app.save_screenshot("audit-detail.svg", str(out))))
            await pilot.press("escape")
            written.append(await _thread_screenshot(pilot, out))
            # The Costs pane's trends: daily cost stacked by model, tokens per call, projection.
            await pilot.press("f5")
            await _wait_for_pane(pilot)
            await pilot.press("t")
            await _wait_for_pane(pilot)
            written.append(Path(app.save_screenshot("costs-trends.svg", str(out))))
            # Its savings (realised prompt caching against its potential) and the optimizer.
            await pilot.press("s")
            await _wait_for_pane(pilot)
            written.append(Path(app.save_screenshot("costs-savings.svg", str(out))))
            await pilot.press("o")
            await _wait_for_screen(pilot)
            written.append(Path(app.save_screenshot("costs-optimize.svg", str(out))))
            await pilot.press("escape")
            await _wait_for_pane(pilot)
            await pilot.press("b")
            written += await _compare_screenshots(pilot, out)
            written.append(await _datasets_screenshot(pilot, out))
    finally:
        store.close()
    return written


async def _compare_screenshots(pilot: Pilot[None], out: Path) -> list[Path]:
    """F3: a comparison caught mid-run (cells streaming into four columns), then the demo's
    support-reply run as a migration report."""
    from llmbench.services.compare.runs import Picks, new_comparison
    from llmbench.store.evaluation.compare_cells import dataset_choices, version_choices
    from llmbench.tui.screens.compare.report import MigrationReportScreen
    from llmbench.tui.screens.compare.run import RunScreen

    app = cast(LLMBenchApp, pilot.app)
    db = app.store.read()
    versions = [v.id for v in version_choices(db) if v.prompt == "support-reply"][:2]
    dataset = next(d.id for d in dataset_choices(db) if d.name == "support-tickets")
    picks = Picks(tuple(versions), ("llmbench/mock", "llmbench/echo"), dataset_id=dataset)
    run_id = new_comparison(app.store, picks)
    await pilot.press("f3")
    await _wait_for_pane(pilot)
    screen = RunScreen(run_id, start=True)
    await app.push_screen(screen)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOAD_TIMEOUT_S
    while screen.board is None or screen.board.progress().finished < 30:
        if loop.time() > deadline:
            raise TimeoutError("the comparison did not get going")
        await pilot.pause(0.02)
    written = [Path(app.save_screenshot("compare-run.svg", str(out)))]
    while screen.running:
        await pilot.pause(0.1)
    app.clear_notifications()
    await pilot.press("escape")
    await app.push_screen(MigrationReportScreen(1))  # the demo's first run
    await _wait_for_screen(pilot)
    written.append(Path(app.save_screenshot("compare-report.svg", str(out))))
    await pilot.press("escape")
    return written


async def _thread_screenshot(pilot: Pilot[None], out: Path) -> Path:
    """F6's thread view (h) of the demo's newest support chat: its steps, tool calls and
    results."""
    app = cast(LLMBenchApp, pilot.app)
    (request_id,) = (
        app.store.read()
        .execute(
            "SELECT request_id FROM calls WHERE conversation_id IS NOT NULL"
            " ORDER BY id DESC LIMIT 1"
        )
        .fetchone()
    )
    await pilot.press("slash", "ctrl+u", *f"request:{request_id}", "enter")
    await _wait_for_pane(pilot)
    await pilot.press("h")
    await _wait_for_screen(pilot)
    written = Path(app.save_screenshot("audit-thread.svg", str(out)))
    await pilot.press("escape")
    return written


async def _datasets_screenshot(pilot: Pilot[None], out: Path) -> Path:
    """The datasets screen over F3: the demo's datasets, the first one's cases beside them."""
    from llmbench.tui.screens.datasets import DatasetsScreen

    app = cast(LLMBenchApp, pilot.app)
    app.clear_notifications()
    await app.push_screen(DatasetsScreen())
    await _wait_for_pane(pilot)
    written = Path(app.save_screenshot("datasets.svg", str(out)))
    await pilot.press("escape")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="output folder")
    parser.add_argument(
        "--pane",
        action="append",
        choices=[pane.mode for pane in PANES],
        help="only this pane's picture (repeatable); default: every picture",
    )
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llmbench-screenshots-") as folder:
        db_path = Path(folder) / "demo.db"
        build_demo(db_path, seed=DEMO_SEED, now=DEMO_NOW)
        only = set(options.pane) if options.pane else None
        for path in asyncio.run(take_screenshots(db_path, options.out, only)):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
