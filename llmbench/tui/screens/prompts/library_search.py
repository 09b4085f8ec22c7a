"""F2's search box above the library: mounted on first use with the line that says when nothing
matches (the pane's first frame does not pay for widgets most visits never use), cleared and
then closed by escape."""

from __future__ import annotations

from typing import cast

from textual.screen import Screen
from textual.widgets import Input, Static

from llmbench.tui.widgets.virtual_table import VirtualTable

SEARCH_ID = "prompt-search"


def open_search(pane: Screen[object]) -> None:
    """Focus the search box, mounting it above the library the first time."""
    found = pane.query(f"#{SEARCH_ID}")
    if found:
        found.first().focus()
        return
    search = Input(placeholder="search names, tags, notes…", id=SEARCH_ID)
    # Shown by the pane's CSS while the screen has the -no-match class.
    no_match = Static("No prompt matches.", id="prompt-empty-search")
    library = pane.query_one("#library")
    if library.query("#prompt-empty-search"):
        library.mount(search, before=0)
    else:
        library.mount(search, no_match, before=0)
    pane.call_after_refresh(search.focus)


def escape_search(pane: Screen[object]) -> None:
    """In the search box: clear it, then close it (the library takes the focus back)."""
    found = pane.query(f"#{SEARCH_ID}")
    if not found or not found.first().has_focus:
        return
    search = cast("Input", found.first())
    if search.value:
        search.value = ""
    else:
        pane.query_one("#prompts-table", VirtualTable).focus()
        search.remove()
