"""The optimizer (F5 → Savings → o): every candidate of every prompt with traffic, one key to
test the highlighted one (an ordinary evaluation run against production on the prompt's
dataset, through the gateway), one key to promote it once quality held (a label move, or a
canary route for a cheaper model; the exact cache, which needs no run, as the prompt's cache
policy), and what shipped changes realised against their projection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from llmbench.tui.format import money
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.widgets.costs_breakdown import fill_fitted
from llmbench.tui.widgets.optimize_text import (
    COLUMNS,
    candidate_cells,
    candidate_text,
    tested_text,
)
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.core.optimize.candidates import Candidate
    from llmbench.services.optimize.candidates import Found
    from llmbench.services.optimize.shipping import Realised
    from llmbench.services.optimize.testing import Tested

Listing = tuple[list["Found"], list["Realised"]]


class OptimizeScreen(PaneScreen[Listing]):
    PANE_TITLE = "Optimize"
    EMPTY_TEXT = "No prompt had calls in the last 30 days: nothing to optimize yet."
    BINDINGS = [
        Binding("enter", "test_candidate", "Test", id="optimize_test", priority=True),
        Binding("p", "promote", "Promote", id="optimize_promote"),
        Binding("escape", "app.pop_screen", "Back", id="optimize_back"),
    ]
    DEFAULT_CSS = """
    OptimizeScreen {
        #optimize-table { height: 1fr; }
        #optimize-scroll { height: 1fr; }
        #optimize-detail { padding: 0 1; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[Found, Candidate]] = {}
        self.tested: dict[str, Tested] = {}
        self.running: set[str] = set()
        self._rewrite_round = 0  # the newest list's rewrite is the one applied

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="optimize-table", cursor_type="row")
        with VerticalScroll(id="optimize-scroll"):
            yield Static("", id="optimize-detail", markup=False)
            yield Static("", id="optimize-realised", markup=False)

    def fetch(self) -> Listing:
        from llmbench.services.optimize.candidates import find_all
        from llmbench.services.optimize.shipping import realised

        store, now = self.bench.store, self.bench.now()
        ttl = self.bench.settings.gateway.cache_ttl_s  # the exact cache's, replayed
        return find_all(store, now=now, cache_ttl_s=ttl), realised(store, now=now)

    def show(self, data: Listing) -> None:
        found, shipped = data
        self._set_rows(found)
        self.set_empty(not self.rows)
        self._fill()
        self._ask_rewrites(found)
        lines = [
            f"{item.shipped.prompt}: {item.shipped.title} shipped {item.shipped.shipped_at[:16]},"
            f" projected {money(item.shipped.projected_monthly)}/month, realised "
            + (money(item.realised_monthly) + "/month" if item.realised_monthly is not None
               else "– (no call yet)")
            for item in shipped
        ]  # fmt: skip
        self.query_one("#optimize-realised", Static).update(
            "\nShipped, realised against projected:\n" + "\n".join(lines) if lines else ""
        )
        self._show_detail()

    def _set_rows(self, found: list[Found]) -> None:
        self.rows = {
            f"{item.prompt.name}:{candidate.kind}": (item, candidate)
            for item in found
            for candidate in item.candidates
        }

    def _ask_rewrites(self, found: list[Found]) -> None:
        """The configured model's rewrite of each prompt, asked once the list is on screen (a
        gateway call: the first one loads litellm); its rows join the list when it answers,
        unless the list was read again meanwhile."""
        if not found:
            return
        from llmbench.services.optimize.rewrite import with_rewrite

        store, settings = self.bench.store, self.bench.settings
        self._rewrite_round += 1
        asked = self._rewrite_round

        def done(rewritten: list[Found]) -> None:
            if asked != self._rewrite_round:
                return
            self._set_rows(rewritten)
            self._fill()
            self._show_detail()

        self.act_in_thread(
            lambda: [with_rewrite(store, settings, item) for item in found], done, what="Rewrite"
        )

    def _fill(self) -> None:
        rows = [
            (key, candidate_cells(found, candidate, self.tested.get(key)))
            for key, (found, candidate) in self.rows.items()
        ]
        table = self.query_one("#optimize-table", DataTable)
        kept = highlighted_key(table)
        fill_fitted(table, COLUMNS, rows)
        restore_cursor(table, kept)  # a refill after a run keeps the row the user is on

    def selected(self) -> str | None:
        key = highlighted_key(self.query_one("#optimize-table", DataTable))
        return key if key in self.rows else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.selected()
        detail = self.query_one("#optimize-detail", Static)
        if key is None:
            detail.update("")
            return
        found, candidate = self.rows[key]
        tested = self.tested.get(key)
        if tested is not None:
            detail.update(tested_text(found, tested))
        elif key in self.running:
            detail.update(f"{candidate_text(found, candidate)}\n\nRunning…")
        else:
            detail.update(candidate_text(found, candidate))

    def action_test_candidate(self) -> None:
        key = self.selected()
        if key is None or key in self.running:
            return
        found, candidate = self.rows[key]
        if not candidate.testable:
            self.notify(
                "Replayed over the calls: nothing to run; p ships it as the prompt's cache policy",
                title=candidate.title,
            )
            return
        from llmbench.services.optimize.testing import test_candidate

        store, settings = self.bench.store, self.bench.settings
        self.running.add(key)
        self._show_detail()

        def done(tested: Tested) -> None:
            self.running.discard(key)
            self.tested[key] = tested
            self._fill()
            self._show_detail()

        def act() -> Tested:
            try:
                return test_candidate(store, settings, found, candidate)
            finally:
                self.running.discard(key)

        self.act_in_thread(act, done, what=f"Test {candidate.title}")

    def action_promote(self) -> None:
        key = self.selected()
        if key is not None and self.rows[key][1].kind == "exact_cache":
            self._ship_cache(key)
            return
        tested = self.tested.get(key) if key is not None else None
        if key is None or tested is None:
            self.notify("Test the candidate first (enter)", title="Promote")
            return
        found, _ = self.rows[key]
        from llmbench.services.optimize.shipping import ship

        store, who = self.bench.store, self.bench.reviewer or "llmbench"

        def done(result: object) -> None:
            route = getattr(result, "route", "")
            how = f"canary route {route}" if route else "production label moved"
            self.notify(f"{tested.candidate.title}: {how}", title="Promoted")
            self.reload()

        self.act_in_thread(lambda: ship(store, found, tested, by=who), done, what="Promote")

    def _ship_cache(self, key: str) -> None:
        """The exact cache needs no run (a hit repeats an answer already given): p ships it as
        the prompt's cache policy, tracked below like the others."""
        found, candidate = self.rows[key]
        from llmbench.services.optimize.shipping import ship_cache

        store, who = self.bench.store, self.bench.reviewer or "llmbench"

        def done(_result: object) -> None:
            self.notify(
                f"{found.prompt.name}: its calls use the exact cache", title="Cache policy shipped"
            )
            self.reload()

        self.act_in_thread(lambda: ship_cache(store, found, candidate, by=who), done, what="Ship")
