"""F2 at a default terminal's 80×24: the library keeps whole prompt names (was `support…`),
folding the update date and the notes count, which come back when there is room."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import settle


def _lines(table: VirtualTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(1 + len(table.rows))]


@pytest.mark.parametrize(("size", "folded"), [((80, 24), True), ((200, 60), False)])
async def test_the_library_keeps_whole_names_and_folds_the_rest(
    make_app: Callable[..., LLMBenchApp], size: tuple[int, int], folded: bool
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#prompts-table", VirtualTable)
        header, *rows = _lines(table)
    names = {row.cells[0] for row in table.rows}
    assert {"support-reply", "extract-invoice", "summarize-thread"} <= names
    for name in names:  # each name whole on its row, never cut with an ellipsis
        assert any(line.split()[0] == name for line in rows), (name, rows)
    assert ("Updated" in header) is not folded and ("Notes" in header) is not folded
    assert "Prod" in header and "Vers" in header
