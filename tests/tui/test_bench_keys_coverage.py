"""tests/benchmarks/bench_keys.py times every key F1 lists: its table must be what F1 lists, scene
by scene, and the frame hook its harness uses must still be Textual's."""

from __future__ import annotations

import inspect
from pathlib import Path

from textual.app import App

from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from tests.benchmarks.bench_keys_scenes import SceneDriver, key_identities
from tests.benchmarks.bench_keys_table import (
    GLOBAL_KEYS,
    GRADING_KEYS,
    KEY_TABLE,
    SCENES,
    SKIPPED,
)
from tests.support import key_timing
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings


async def test_every_scene_lists_in_f1_exactly_the_keys_the_benchmark_times(
    pristine_copy: Path,
) -> None:
    # A private copy: the quit dialog's scene types into the editor, which keeps a draft.
    store = open_db(pristine_copy, create=False)
    app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    differences: dict[str, dict[str, list[str]]] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            driver = SceneDriver(pilot, key_timing.FrameClock(app))
            await key_timing.quiet(pilot)
            for name, scene in SCENES.items():
                await driver.reach(scene)
                listed = set(key_identities(app, pane_only=True))
                timed = set(KEY_TABLE[name])
                if listed != timed:
                    differences[name] = {
                        "in F1, not in bench_keys_table": sorted(listed - timed),
                        "in bench_keys_table, not in F1": sorted(timed - listed),
                    }
            await driver.reach(SCENES["library"])
            global_keys = set(key_identities(app, pane_only=False, only_global=True))
    finally:
        store.close()
    assert differences == {}, "run `bench_keys.py --list` and update bench_keys_table.py"
    assert global_keys == set(GLOBAL_KEYS)


def test_the_table_names_only_its_own_scenes_and_keys() -> None:
    assert set(KEY_TABLE) == set(SCENES)
    assert set(GLOBAL_KEYS.values()) <= set(SCENES)
    for (scene, identity), reason in SKIPPED.items():
        assert identity in KEY_TABLE[scene] or GLOBAL_KEYS.get(identity) == scene, identity
        assert reason
    for scene, identities in GRADING_KEYS.items():
        assert set(identities) <= set(KEY_TABLE[scene]), scene


def test_textual_still_paints_every_frame_through_app_display() -> None:
    """key_timing.FrameClock wraps the private `App._display(screen, renderable)`; a Textual
    that renames it or stops painting through it must fail here, not time nothing."""
    assert list(inspect.signature(App._display).parameters) == ["self", "screen", "renderable"]


async def test_the_frame_clock_sees_the_frame_a_key_paints() -> None:
    app = key_timing.MinimalApp()
    async with app.run_test(size=SIZE) as pilot:
        clock = key_timing.FrameClock(app)
        await key_timing.quiet(pilot)
        moved = await key_timing.time_key(pilot, clock, "down")
        assert moved is not None
        assert 0 < moved.first_ms <= moved.settled_ms
        assert await key_timing.time_key(pilot, clock, "f12") is None  # bound to nothing
