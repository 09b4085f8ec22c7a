"""SVG snapshots of panes on the demo database (fixed seed, fixed `now`, fixed size).

Update after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from llmbench.tui.app import LLMBenchApp
from tests.tui.conftest import SIZE, open_pane


@pytest.mark.parametrize("key", ["f2", "f5", "f7"])
def test_pane_snapshot(
    key: str, make_app: Callable[..., LLMBenchApp], snap_compare: Callable[..., bool]
) -> None:
    async def open_it(pilot: Pilot[Any]) -> None:
        await open_pane(pilot, key)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_it)
