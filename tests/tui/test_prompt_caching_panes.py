"""Provider prompt caching in the panes: ctrl+t in F2's editor marks the current section
cacheable (its tab says so, F1 lists the key, the kept draft and then the saved version keep
the mark), and F5's
savings view shows, per version that marks sections, what caching realised of its potential."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from llmbench.core.models import Variable
from llmbench.services.costs.cache_savings import cached_prompts
from llmbench.store.db import Store, open_db
from llmbench.store.prompts.versions import add_version, create_prompt, list_versions, set_label
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.format import money
from llmbench.tui.screens.costs import CostsScreen
from llmbench.tui.screens.dialogs import FormDialog, QuitDialog
from llmbench.tui.screens.help import HelpScreen
from llmbench.tui.screens.prompts.editor import CACHED_MARK, EditorScreen
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.support.traffic import write_calls
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle

MODEL = "claude-sonnet-4-5"
SECTIONS = {
    "role": "You answer questions about Acme's parcel service. " * 40,
    "format": "Three sentences at most.",
    "task": "Answer: {{ question }}",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "caching.db") as opened:

        def job(db: Any) -> int:
            prompt = create_prompt(db, "support")
            version = add_version(
                db, prompt, SECTIONS, variables=(Variable("question", "untrusted"),), model=MODEL
            )
            set_label(db, prompt, "production", version)
            return prompt

        opened.write(job)
        yield opened


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="caching.db", clock=lambda: DEMO_NOW)


async def _until(pilot: Pilot[None], screen_type: type, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot, timeout=timeout_s)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


def _tab_label(editor: EditorScreen, name: str) -> str:
    return editor.query_one("#editor-tabs", TabbedContent).get_tab(f"tab-{name}").label.plain


async def test_ctrl_t_marks_the_current_section_and_the_version_keeps_it(store: Store) -> None:
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f2")
        await pilot.press("e")
        await _until(pilot, EditorScreen)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert _tab_label(editor, "role") == "Role"
        await pilot.press("alt+1", "ctrl+t")  # role: marked
        await pilot.press("alt+3", "ctrl+t", "ctrl+t")  # format: marked, then not
        assert editor.cacheable == ("role",)
        assert _tab_label(editor, "role") == f"Role{CACHED_MARK}"
        assert _tab_label(editor, "format") == "Format"
        assert editor.dirty
        assert editor.typed()["cacheable"] == "role"  # kept with the draft's texts
        await pilot.press("alt+7", "ctrl+t")  # Settings is no section: nothing changes
        assert editor.cacheable == ("role",)

        await pilot.press("f1")
        await _until(pilot, HelpScreen)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        listed = {item.binding_id: item for item in help_screen.keys}
        assert listed["editor_cache_section"].key == "^t"  # Textual shows ctrl+t so
        assert listed["editor_cache_section"].description == "Cache section"
        await pilot.press("escape")
        await _until(pilot, EditorScreen)
        # Quitting keeps the draft, marks and all.
        await pilot.press("ctrl+q")
        await _until(pilot, QuitDialog)
        await pilot.press("y")

    reopened = _app(store)
    async with reopened.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f2")
        await pilot.press("e")
        await _until(pilot, EditorScreen)
        editor = reopened.screen
        assert isinstance(editor, EditorScreen) and "kept draft" in editor.title
        assert editor.cacheable == ("role",)
        assert _tab_label(editor, "role") == f"Role{CACHED_MARK}"
        await pilot.press("ctrl+s")
        await _until(pilot, FormDialog)
        await pilot.press(*"cache", "space", *"role")
        await pilot.press("enter")
        await _until(pilot, PromptsScreen)

    prompt_id = store.read().execute("SELECT id FROM prompts").fetchone()[0]
    marks = [version.cacheable for version in list_versions(store.read(), prompt_id)]
    assert marks == [(), ("role",)]


async def test_f5_savings_shows_realised_of_potential_per_cached_version(store: Store) -> None:
    def job(db: Any) -> int:
        (prompt_id,) = db.execute("SELECT id FROM prompts").fetchone()
        return add_version(db, prompt_id, SECTIONS, model=MODEL, cacheable=("role",))

    marked = store.write(job)
    calls = [
        {
            "ts": f"2025-05-3{n % 2}T10:00:0{n}.000Z",
            "request_id": f"r{n}",
            "model_requested": MODEL,
            "model": MODEL,
            "provider": "anthropic",
            "status": "ok",
            "prompt_version_id": marked,
            "messages": json.dumps([{"role": "user", "content": f"question {n}"}]),
            "prompt_tokens": 600,
            "completion_tokens": 40,
            "input_price": 3.0,
            "cached_price": 0.3,
            "cache_write_price": 3.75,
            **({"cache_write_tokens": 400} if n == 0 else {"cached_tokens": 400}),
        }
        for n in range(6)
    ]
    write_calls(store, calls)
    app = _app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, "f5")
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CostsScreen) and screen.savings is not None
        (item,) = screen.savings.cached_prompts
        text = str(screen.query_one("#savings-text", Static).render())
    assert item == cached_prompts(store, "2025-05-01T00:00:00.000Z", "2025-06-02T00:00:00.000Z")[0]
    assert "Prompt caching applied" in text
    assert f"support v2 on {MODEL}: realised {money(item.realised)} of" in text
    assert f"of {money(item.potential)} potential" in text
    assert "2,000 tokens read from the cache, 400 written" in text
