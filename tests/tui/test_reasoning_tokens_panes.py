"""Reasoning and cache-write tokens (m014) in the panes, at 80×24: F5's breakdown gains a column
for each only when the window counts some (with the figures `llmbench costs` prints), and F6's
detail shows a call's counts and the rates it was charged for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import DataTable, Static

from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.call_detail import CallDetailScreen
from llmbench.tui.screens.costs import CostsScreen
from tests.support.traffic import write_calls
from tests.tui.conftest import DEMO_NOW, open_pane, settle
from tests.tui.costs_support import WINDOW, table_rows

# (model, reasoning, cache writes, reasoning rate, cache-write rate); the last call is F6's first.
CALLS = [
    ("gpt-4o", None, None, None, None),
    ("claude-sonnet-4-5", None, 1_200, None, 3.75),
    ("o3", 4_321, None, 8.0, None),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "reasoning.db") as opened:
        write_calls(
            opened,
            [
                {
                    "ts": f"2025-05-30T10:00:0{n}.000Z",
                    "request_id": f"r-{n}",
                    "model_requested": model,
                    "model": model,
                    "status": "ok",
                    "prompt_tokens": 2_000,
                    "completion_tokens": 5_000,
                    "cost": 0.01 * (n + 1),
                    "input_price": 2.0,
                    "output_price": 8.0,
                    "cached_price": 0.5,
                    "reasoning_tokens": reasoning,
                    "cache_write_tokens": written,
                    "reasoning_price": reasoning_rate,
                    "cache_write_price": write_rate,
                }
                for n, (model, reasoning, written, reasoning_rate, write_rate) in enumerate(CALLS)
            ],
        )
        yield opened


def _headers(screen: CostsScreen) -> list[str]:
    table = screen.query_one("#costs-table", DataTable)
    return [str(column.label) for column in table.ordered_columns]


async def test_f5_counts_them_in_columns_and_f6_shows_them(store: Store) -> None:
    printed = CliRunner().invoke(cli, ["costs", "--db", str(store.path), "--by", "model", *WINDOW])
    assert printed.exit_code == 0, printed.output
    header = printed.output.splitlines()[1]
    assert "reasoning" in header and "cache write" in header
    o3_line = next(line for line in printed.output.splitlines() if line.startswith("o3 "))
    assert "4,321" in o3_line

    app = LLMBenchApp(store, Settings(), db_label="reasoning.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        headers = _headers(screen)
        # Before the sparkline; cost and share stay first, in sight at 80 columns.
        assert headers[1:3] == ["Cost", "Share"]
        assert headers.index("Reasoning tok") == headers.index("Cached tok") + 1
        assert headers.index("Cache wr. tok") + 1 == headers.index("Last 30 days")
        rows = {cells[0].lstrip("▾▸ "): cells for cells in table_rows(screen)}
        reasoning, written = headers.index("Reasoning tok"), headers.index("Cache wr. tok")
        by_model = {name.split()[-1]: cells for name, cells in rows.items()}
        o3 = next(cells for name, cells in by_model.items() if name.endswith("o3"))
        assert (o3[reasoning], o3[written]) == ("4,321", "0")
        claude = next(cells for name, cells in by_model.items() if "claude" in name)
        assert (claude[reasoning], claude[written]) == ("0", "1,200")

        await open_pane(pilot, "f6")
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(app.screen, CallDetailScreen):
                break
            await pilot.pause(0.02)
        await settle(pilot)
        text = str(app.screen.query_one("#detail-text", Static).render())
    tokens = text[text.index("TOKENS, COST, TIME") : text.index("ATTEMPTS")]
    flat = " ".join(tokens.split())
    assert "reasoning 4,321" in flat and "cache write" not in flat.split("cost")[0]
    assert "reasoning $8.00" in flat, flat
