"""F2's version detail shows the sections a version marks cacheable: a "cached" line naming
them, and the editor's ◆ after each marked section's heading; a version without marks shows
neither."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from llmbench.core.models import Variable
from llmbench.store.db import Store, open_db
from llmbench.store.prompts.versions import add_version, create_prompt
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.editor import CACHED_MARK
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle

SECTIONS = {
    "role": "You answer questions about Acme's parcel service.",
    "examples": "Q: Where is my parcel?\nA: Track it under Parcels → Track.",
    "format": "Three sentences at most.",
    "task": "Answer: {{ question }}",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "marks.db") as opened:

        def job(db: Any) -> None:
            prompt = create_prompt(db, "parcel-answers")
            variables = (Variable("question", "untrusted"),)
            first = add_version(db, prompt, SECTIONS, variables=variables, model="gpt-4o-mini")
            add_version(
                db,
                prompt,
                SECTIONS,
                variables=variables,
                model="claude-sonnet-4-5",
                parent_id=first,
                message="Cache the role and the examples",
                cacheable=("examples", "role"),
            )

        opened.write(job)
        yield opened


def _detail(app: LLMBenchApp) -> str:
    assert isinstance(app.screen, PromptsScreen), app.screen
    return str(app.screen.query_one("#version-detail-text", Static).render())


async def test_version_detail_names_and_marks_cacheable_sections(store: Store) -> None:
    app = LLMBenchApp(store, demo_settings(), db_label="marks.db", clock=lambda: DEMO_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f2")
        await settle(pilot)
        detail = _detail(app)
        assert "v2" in detail
        # Stored in section order whatever order they were marked in, as the editor shows them.
        assert f"cached role, examples{CACHED_MARK}" in detail
        assert f"ROLE{CACHED_MARK}\n" in detail and f"EXAMPLES{CACHED_MARK}\n" in detail
        assert "FORMAT\n" in detail and "TASK\n" in detail
        assert f"FORMAT{CACHED_MARK}" not in detail and f"TASK{CACHED_MARK}" not in detail

        # v1 marks nothing: neither the line nor a mark.
        app.screen.query_one("#versions-table", DataTable).focus()
        await pilot.press("down")
        await settle(pilot)
        detail = _detail(app)
        assert "v1" in detail and "ROLE\n" in detail
        assert "cached " not in detail and CACHED_MARK not in detail
