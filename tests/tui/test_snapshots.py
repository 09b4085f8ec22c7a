"""SVG snapshots of every pane on the demo database (fixed seed, fixed `now`), at the smallest
size we design for (80×24, a default terminal) and at a large one (200×60).

Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from llmbench.store.db import open_db
from llmbench.tui.app import PANES, LLMBenchApp
from tests.tui.conftest import DEMO_NOW, demo_settings, open_pane

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("key", [pane.key for pane in PANES])
def test_pane_snapshot(
    key: str, size: str, pristine_copy: Path, snap_compare: Callable[..., bool]
) -> None:
    # The demo as built: other tests in this process may have graded, acknowledged or
    # promoted things in the shared file, and every figure on screen must stay put.
    store = open_db(pristine_copy, create=False)
    app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)

    async def open_it(pilot: Pilot[Any]) -> None:
        await open_pane(pilot, key)

    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=open_it)
    finally:
        store.close()
