"""F6's "Response / match" column uses the room: at 80×24 the columns that matter stay (time,
model, status, cost) and the match shows with its context; at 200×60 every default column
stays and the match gets the rest. A search is typed with the real keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from llmbench.tui.app import LLMBenchApp
from llmbench.tui.widgets.call_log import DEFAULT_COLUMNS, CallLog
from llmbench.tui.widgets.call_log_layout import ELLIPSIS, window_on_match
from tests.tui.conftest import open_pane, settle


async def _search(pilot: Pilot[None], word: str) -> CallLog:
    await open_pane(pilot, "f6")
    await pilot.press("slash", *word, "enter")
    await settle(pilot)
    log = pilot.app.screen.query_one("#call-log", CallLog)
    assert log.rows and all(row.snippet is not None for row in log.rows[:5])
    return log


def _line(log: CallLog, y: int) -> str:
    return log.render_line(y).text


def _context_around_match(log: CallLog, row: int) -> tuple[str, str, str]:
    """The text shown before the first match, the match, and the text after it, on screen."""
    call = log.rows[row]
    assert call.snippet is not None
    start, end = call.snippet.spans[0]
    matched = call.snippet.text[start:end]
    line = _line(log, row + 1)
    at = line.lower().find(matched.lower())
    assert at >= 0, f"the match {matched!r} is not on screen: {line!r}"
    before = call.snippet.text[:start].rstrip()[-6:]
    after = call.snippet.text[end:].lstrip()[:6]
    return before, line[at : at + len(matched)], after


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_a_search_match_shows_with_its_context(
    make_app: Callable[..., LLMBenchApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        log = await _search(pilot, "refund")
        header = _line(log, 0)
        # The columns that matter stay at every size.
        for label in ("Model", "Status", "Cost", "Response / match"):
            assert label in header, header
        assert "Time" in header
        preview = next(p for p in log.placed() if p.column.key == "preview")
        shown = [p.column.key for p in log.placed()]
        if size[0] == 80:
            assert preview.width >= 25
            assert "feature" not in shown and "prompt" not in shown
        else:
            assert shown == list(DEFAULT_COLUMNS)
            assert preview.width >= 55
        for row in range(min(5, len(log.rows))):
            before, matched, after = _context_around_match(log, row)
            line = _line(log, row + 1)
            assert matched.lower().startswith("refund")
            # Some words of context on either side of the match are on screen too.
            assert not before or before.strip() in line
            assert not after or after.strip() in line
        assert len(_line(log, 1).rstrip()) <= size[0]


def test_the_window_centres_a_match_far_into_the_snippet() -> None:
    text = "a" * 50 + " the refund policy " + "b" * 50
    start = text.index("refund")
    shown, spans = window_on_match(text, [(start, start + 6)], 27)
    assert len(shown) == 27 and shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS)
    ((new_start, new_end),) = spans
    assert shown[new_start:new_end] == "refund"
    assert "the refund policy" in shown
    # A match already in view is cut from the start, as before.
    early, early_spans = window_on_match("refund " + "x" * 60, [(0, 6)], 27)
    assert early.startswith("refund") and early_spans == [(0, 6)]
