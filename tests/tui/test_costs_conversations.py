"""F5 by conversation (`g` until "by conversation → model"): one row per conversation with its
cost, calls and tokens, the same figures as `llmbench costs --by conversation`, and under the
breakdown the cost of one conversation at p50 and p95; `o` opens a conversation's calls in F6
(`conversation:`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from llmbench.config import Settings
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.audit.pane import AuditScreen
from llmbench.tui.screens.costs import CostsScreen
from tests.support.traffic import write_calls
from tests.tui.conftest import DEMO_NOW, SIZE, open_pane, settle
from tests.tui.costs_support import cli_costs, figures, table_rows

# Four conversations (costs 0.01, 0.02 + 0.03, 0.04, 0.5) and a call in none.
CALLS = [
    ("chat-a", "gpt-4o", 0.01),
    ("chat-b", "gpt-4o", 0.02),
    ("chat-b", "gpt-4o-mini", 0.03),
    ("chat-c", "gpt-4o", 0.04),
    ("chat-d", "gpt-4o", 0.5),
    (None, "gpt-4o", 0.25),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "conversations.db") as opened:
        write_calls(
            opened,
            [
                {
                    "ts": f"2025-05-30T10:00:0{n}.000Z",
                    "request_id": f"r-{n}",
                    "model_requested": model,
                    "model": model,
                    "status": "ok",
                    "prompt_tokens": 100,
                    "completion_tokens": 20,
                    "cost": cost,
                    "conversation_id": conversation,
                }
                for n, (conversation, model, cost) in enumerate(CALLS)
            ],
        )
        yield opened


async def test_costs_by_conversation_with_the_cost_of_one(store: Store) -> None:
    expected = cli_costs(store.path, "conversation")
    app = LLMBenchApp(store, Settings(), db_label="conversations.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        screen = app.screen
        assert isinstance(screen, CostsScreen)
        for _ in range(20):
            if screen.view[0] == "conversation":
                break
            await pilot.press("g")
            await settle(pilot)
        assert screen.view == ("conversation", "model")
        rows = [cells for cells in table_rows(screen) if not cells[0].startswith(" ")]
        names = [cells[0].lstrip("▾▸ ") for cells in rows]
        assert names == ["chat-d", "(untagged)", "chat-b", "chat-c", "chat-a"]
        assert [row["label"] for row in expected["rows"]] == names
        for cells, row in zip(rows, expected["rows"], strict=True):
            assert cells[1:8] == figures(row)
        breadcrumb = str(screen.query_one("#costs-breadcrumb", Static).render())
        assert breadcrumb.startswith("by conversation → model")
        # Nearest rank over 0.01, 0.04, 0.05, 0.5: p50 the 2nd, p95 the 4th.
        assert "4 conversations: cost per conversation p50 $0.0400 · p95 $0.5000" in breadcrumb
        assert "mean $0.1500 · max $0.5000" in breadcrumb

        # The calls behind a conversation, in F6.
        while (
            table_rows(screen)[screen.query_one("#costs-table").cursor_row][0].lstrip("▾▸ ")
            != "chat-b"
        ):
            await pilot.press("down")
        await pilot.press("o")
        await settle(pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert 'conversation:"chat-b"' in audit.query_text
        assert audit.matches == (2, True)
