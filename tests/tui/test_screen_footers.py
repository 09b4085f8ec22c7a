"""The screens opened over the panes (prompt editor, grading session, compare run, thread view,
text pages) draw their key hints with the panes' footer (issue 23: Textual's Footer mounts a
widget per key, 44% of the editor's opening), and show the keys Textual's Footer showed: the
first key of each action that shows, the help key, and the palette key on the right."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer

from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.widgets.pane_footer import PaneFooter
from tests.benchmarks.bench_keys_scenes import SceneDriver
from tests.benchmarks.bench_keys_table import SCENES
from tests.support import key_timing
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings

# Each scene, the screen it shows and hints of the screen's own keys.
SCREENS = {
    "editor": ("EditorScreen", (" ^s Save version ", " esc Close ", " alt+1…8 Role section ")),
    "grading_normal": ("GradeSessionScreen", (" 0-9 Score ", " s Skip ", " ? Anchors ")),
    "compare_run": ("RunScreen", (" v Grid / columns ", " d Diff outputs ")),
    "audit_thread": ("ThreadScreen", (" esc Back ", " / Filter the log to it ")),
    "diff": ("DiffScreen", (" esc Back ", " c All lines ")),
    "report": ("MigrationReportScreen", ()),
    "audit_detail": ("CallDetailScreen", ()),
    "agreement": ("AgreementScreen", ()),
}


def _expected_keys(app: LLMBenchApp) -> list[str]:
    """The keys Textual's Footer shows: of the bindings that show, the first of each action."""
    first: dict[str, str] = {}
    for _, binding, _, _ in app.screen.active_bindings.values():
        if binding.show and binding.action not in first:
            first[binding.action] = binding.key
    palette = app.COMMAND_PALETTE_BINDING
    return [key for key in first.values() if key != palette]


@pytest.mark.parametrize("scene", list(SCREENS))
async def test_each_screen_shows_its_keys_in_the_pane_footer(
    pristine_copy: Path, scene: str
) -> None:
    store = open_db(pristine_copy, create=False)
    app = LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)
    screen_name, hints = SCREENS[scene]
    try:
        async with app.run_test(size=SIZE) as pilot:
            driver = SceneDriver(pilot, key_timing.FrameClock(app))
            await key_timing.quiet(pilot)
            await driver.reach(SCENES[scene])
            screen = app.screen
            assert type(screen).__name__ == screen_name
            assert not screen.query(Footer)
            footer = screen.query_one(PaneFooter)
            keys = [item.key for item in footer.items if item.key is not None]
            assert keys == _expected_keys(app)
            hinted = "".join(text for item in footer.items for text, _ in item.pieces)
            for hint in (*hints, " f1 Help "):
                assert hint in hinted, (hint, hinted)
            line = footer.render_line(0).text  # what does not fit scrolls with the wheel
            assert len(line) == SIZE[0]
            assert line.startswith(hinted[: SIZE[0] - len("▏^p Palette ")].rstrip())
            assert line.endswith("▏^p Palette ")
    finally:
        store.close()
