"""The agreement view names the items that pulled agreement down as a reviewer knows them:
the case's words, the prompt version and the model, not "result #8"."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from textual.widgets import Static

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.grade.agreement import SHOWN_DISAGREEMENTS, AgreementScreen
from tests.tui.conftest import settle


async def test_disagreements_are_named_by_case_prompt_and_model(
    make_app: Callable[..., LLMBenchApp], demo_sql: sqlite3.Connection
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("a")
        for _ in range(300):
            if isinstance(app.screen, AgreementScreen) and app.screen.report is not None:
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, AgreementScreen) and screen.report is not None
        text = " ".join(str(screen.query_one("#agreement-text", Static).render()).split())
        shown = screen.report.disagreements[:SHOWN_DISAGREEMENTS]
        assert shown
        assert "result #" not in text and "call #" not in text
        for key, _amount in shown:
            kind, _, number = key.partition(":")
            assert kind == "result"
            vars_json, version, model = demo_sql.execute(
                "SELECT c.vars, p.name || ' v' || v.version, res.model FROM results res"
                " JOIN cases c ON c.id = res.case_id"
                " JOIN prompt_versions v ON v.id = res.version_id"
                " JOIN prompts p ON p.id = v.prompt_id WHERE res.id = ?",
                [int(number)],
            ).fetchone()
            longest = max((str(v) for v in json.loads(vars_json).values()), key=len)
            opening = " ".join(longest.split())[:30]
            name = screen.report.item_names[key]
            assert name.startswith(f"“{opening}") and f"· {version} · {model}" in name
            assert f"“{opening}" in text
