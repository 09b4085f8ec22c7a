"""F5's budgets, in the alerts view: each with what its period has spent, created and deleted
from the pane as `llmbench budgets set` and `delete` do them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.widgets import DataTable

from llmbench.tui.format import money, percent
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.dialogs import ConfirmDialog, Field, FormDialog
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.costs.budgets import BudgetStatus
    from llmbench.services.costs.levels import Level
    from llmbench.services.costs.pane import CostsPane

BUDGET_COLUMNS = ("Budget", "Period", "Spent", "Limit", "Used", "Heading for")
BUDGET_PERIODS = ("month", "week", "day")  # the CLI's default period first
NEW_BUDGET_DRAFT = "dialog:new-budget"
"""The new-budget dialog's fields are kept under this draft key until the budget is saved."""


def budget_dialog(level: Level | None) -> FormDialog:
    """The fields of `llmbench budgets set`, the scope filled in from the row drilled into
    (its innermost feature, model, team or customer), else global."""
    from llmbench.services.costs import budgets

    scope = "global"
    for choice in level.chosen if level is not None else ():
        if choice.dimension in budgets.BUDGET_SCOPES and choice.value not in (None, ""):
            scope = f"{choice.dimension}={choice.value}"

    def check(values: dict[str, str]) -> str | None:
        try:
            budgets.parse_scope(values["scope"])
            budgets.parse_limit(values["limit"])
        except ValueError as error:
            text = str(error)
            return text[0].upper() + text[1:] + "."
        return None

    fields = [
        Field(
            "scope",
            "Scope: global, or model=…, feature=…, team=…, customer=…",
            value=scope,
            placeholder="feature=search-answer",
        ),
        Field("period", "Period", choices=BUDGET_PERIODS),
        Field("limit", "Limit (US dollars per period)", placeholder="100"),
    ]
    return FormDialog(
        "New budget", fields, submit="Save", validate=check, draft_key=NEW_BUDGET_DRAFT
    )


class CostBudgetsView(PaneScreen["CostsPane"]):
    """The alerts view's budgets, for CostsScreen (which composes the tables and binds keys)."""

    current: str
    level: Level
    action_show_view: Callable[[str], None]  # CostsScreen's: switches between the four views

    def _init_budgets(self) -> None:
        self._budgets: dict[str, BudgetStatus] = {}

    def _mount_budgets_table(self) -> None:
        budgets = self.query_one("#budgets-table", DataTable)
        for label in BUDGET_COLUMNS:
            budgets.add_column(label)

    def _fill_budgets(self, data: CostsPane) -> None:
        budgets = self.query_one("#budgets-table", DataTable)
        self._budgets = {str(status.budget.id): status for status in data.budgets}
        rows = [
            (
                key,
                [
                    status.label,
                    status.budget.period,
                    money(status.spent),
                    money(status.budget.limit_usd),
                    percent(status.used),
                    money(status.projected),
                ],
            )
            for key, status in self._budgets.items()
        ]
        # Every read (every visit to F5) brings the budgets again, mostly as they were: a
        # refill would throw away every cell the table has drawn.
        if [(row.key.value, budgets.get_row(row.key)) for row in budgets.ordered_rows] == rows:
            return
        kept_budget = highlighted_key(budgets)
        budgets.clear()
        for key, cells in rows:
            budgets.add_row(*cells, key=key)
        restore_cursor(budgets, kept_budget)

    def selected_budget(self) -> BudgetStatus | None:
        key = highlighted_key(self.query_one("#budgets-table", DataTable))
        return self._budgets.get(key) if key is not None else None

    # -- keys --------------------------------------------------------------------------------

    def action_new_budget(self) -> None:
        self.action_show_view("alerts")
        self.app.push_screen(budget_dialog(self.level), self._save_budget)

    def _save_budget(self, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.costs import budgets

        store = self.bench.store
        scope, period = values["scope"].strip(), values["period"]
        limit = budgets.parse_limit(values["limit"])  # the dialog has checked it

        def saved(budget_id: int) -> None:
            self.bench.drafts.discard(NEW_BUDGET_DRAFT)  # the budget holds the fields now
            self.notify(f"#{budget_id} {scope}: {money(limit)} per {period}", title="Budget saved")
            self.reload()

        self.act_in_thread(
            lambda: budgets.set_budget(store, scope, period, limit), saved, what="Save budget"
        )

    def action_delete_budget(self) -> None:
        if self.current != "alerts":
            # From another view (or the palette): show which budget is highlighted first.
            self.action_show_view("alerts")
            self.query_one("#budgets-table").focus()
            self.notify("Highlight a budget and press d again to delete it.", title="Budgets")
            return
        status = self.selected_budget()
        if status is None:
            self.notify("There is no budget to delete.", title="Budgets")
            return
        budget = status.budget
        question = (
            f"Delete budget #{budget.id}, {status.label}: {money(budget.limit_usd)} per "
            f"{budget.period}?\nIts past alerts stay."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete_budget(budget.id, status.label)

        self.app.push_screen(ConfirmDialog("Delete budget", question, yes="Delete"), answered)

    def _delete_budget(self, budget_id: int, label: str) -> None:
        from llmbench.services.costs import budgets

        store = self.bench.store

        def deleted(found: bool) -> None:
            if found:
                self.notify(f"#{budget_id} {label}", title="Budget deleted")
            else:
                self.notify(f"Budget #{budget_id} was already gone.", title="Budgets")
            self.reload()

        self.act_in_thread(
            lambda: budgets.delete_budget(store, budget_id), deleted, what="Delete budget"
        )
