"""F7 shows production quality: the judge's daily score on sampled production calls and the
daily share of similar queries with diverging answers, read from a real database where
`monitor sample` (judged by llmbench/mock through the gateway) and `monitor consistency` ran;
`c` then raises the consistency drift as an alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Sparkline, Static

from llmbench.config import GatewaySettings, GeneralSettings, GuardSettings, Settings
from llmbench.gateway.client import shutdown_sync
from llmbench.services.monitoring.consistency import measure_consistency
from llmbench.services.monitoring.quality_sample import sample_production
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.monitor import MonitorScreen
from tests.support.support_questions import PROMPT, SUITE, seed_support_traffic
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, open_pane, settle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "production.db") as opened:
        seed_support_traffic(opened, DEMO_NOW, days=14, per_day=40, diverge_after=10)
        suite = tmp_path / "suite.yaml"
        suite.write_text(SUITE)
        settings = Settings(
            gateway=GatewaySettings(max_retries=0), guard=GuardSettings(enabled=False)
        )
        sample_production(opened, PROMPT, suite, rate=0.5, days=14, now=DEMO_NOW, settings=settings)
        measure_consistency(opened, days=15, now=DEMO_NOW)
        yield opened
    shutdown_sync()


def _text(screen: MonitorScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_f7_shows_the_judge_scores_and_the_consistency_series(store: Store) -> None:
    verdicts = (
        store.read()
        .execute(
            "SELECT substr(c.ts, 1, 10), count(*), avg(k.score) FROM checks k"
            " JOIN calls c ON c.id = k.call_id WHERE k.kind = 'judge' GROUP BY 1 ORDER BY 1"
        )
        .fetchall()
    )
    shares = (
        store.read()
        .execute("SELECT day, divergent * 1.0 / pairs, pairs FROM consistency_daily ORDER BY day")
        .fetchall()
    )
    settings = Settings(general=GeneralSettings(reviewer=REVIEWER))
    app = LLMBenchApp(store, settings, db_label="production.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f7")
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        last_day, judged, mean = verdicts[-1]
        assert _text(screen, "#caption-judge") == (
            f"Judge on production 30 d, latest {mean:.2f} ({judged} verdicts {last_day[5:]})"
        )
        assert screen.query_one("#spark-judge", Sparkline).data == pytest.approx(
            [row[2] for row in verdicts]
        )
        _day, share, pairs = shares[-1]
        assert _text(screen, "#caption-consistency") == (
            f"Diverging answers 30 d, latest {share * 100:.1f}% of {pairs:,} pairs"
        )
        series = screen.query_one("#spark-consistency", Sparkline).data
        assert series == pytest.approx([row[1] for row in shares]) and len(series) == 15
        # The rise after day 10 is on screen (the traffic starts and ends at noon: 15 days).
        assert sum(series[-3:]) / 3 > 2 * sum(series[1:9]) / 8

        await pilot.press("c")
        for _ in range(200):
            table = screen.query_one("#alerts-table", DataTable)
            if table.row_count:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        messages = [str(table.get_row_at(row)[3]) for row in range(table.row_count)]
        assert any(message.startswith(f"{PROMPT} diverging answers up") for message in messages)
