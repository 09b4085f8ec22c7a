"""F2's keys lay the screen out no more than their result needs (issue 23): a cursor move on the
library once (the version's detail sized by the layout alone, tui/widgets/laid_out.py), a
refresh that finds nothing changed not at all (the versions table and the detail keep what they
show), and a mark for a diff still refills the table with its ◆."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.pane import PromptsScreen
from llmbench.tui.widgets.version_table import VersionTable
from tests.support import key_timing
from tests.tui.conftest import SIZE, settle


def _detail(screen: PromptsScreen) -> str:
    return str(screen.query_one("#version-detail-text", Static).render())


def _version_cells(screen: PromptsScreen) -> list[str]:
    table = screen.query_one("#versions-table", VersionTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


async def test_library_keys_lay_out_only_what_changed(make_app: Callable[..., LLMBenchApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromptsScreen) and screen.prompt_history is not None
        counted = key_timing.count_layouts(screen)
        first = screen.prompt_history.prompt.name
        assert first in _detail(screen)

        assert await key_timing.layouts_of(pilot, counted, "down") == 1
        assert screen.prompt_history.prompt.name != first
        assert screen.prompt_history.prompt.name in _detail(screen)
        shown, cells = _detail(screen), _version_cells(screen)
        table = screen.query_one("#versions-table", VersionTable)
        row = table.cursor_row

        # Nothing changed in the file: the refresh reads it again and lays nothing out.
        assert await key_timing.layouts_of(pilot, counted, "r") == 0
        assert (_detail(screen), _version_cells(screen), table.cursor_row) == (shown, cells, row)

        # A mark changes the table's cells: it is filled again, with ◆ on the marked version.
        await pilot.press("m")
        await key_timing.quiet(pilot)
        assert screen.marked is not None
        assert _version_cells(screen)[row] == f"◆ v{screen.marked[1]}"
        await pilot.press("m")
        await key_timing.quiet(pilot)
        assert screen.marked is None and _version_cells(screen) == cells
