"""The models view's routes (F8, `R`): every canary and tier route in the order tried, with its
arms, their share of the traffic, and where the route comes from (the database, or the config's
[[routes]]); keys to add, edit and delete the database's routes, as `llmbench routes set` and
`delete` do. Running gateways pick a change up within 30 s.

A config route is edited by saving a database route of its name, which replaces it; deleting
one is the config file's business, and the view says so.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.dialogs import ConfirmDialog
from llmbench.tui.screens.models_dialogs import route_dialog
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor

if TYPE_CHECKING:
    from llmbench.services.routes import ListedRoute, RoutesListing

ROUTE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Route"),
    ("origin", "From"),
    ("applies", "Applies to"),
    ("arms", "Arms"),
)
NO_ROUTES = (
    "No routes: every call goes to the model it names.\n\n"
    "Press a to add one (a canary: gpt-4o=90; gpt-4o-mini=10), or write [[routes]] in the "
    "config."
)


def _row_key(item: ListedRoute) -> str:
    return f"{item.origin}:{item.route.name}"


def _origin_text(item: ListedRoute) -> str:
    return "config (replaced)" if item.replaced else item.origin


def route_row(item: ListedRoute) -> tuple[str, ...]:
    from llmbench.services.routes import describe_applies, describe_arms

    return (
        item.route.name,
        _origin_text(item),
        describe_applies(item.route),
        describe_arms(item.route),
    )


def route_detail(item: ListedRoute, config_source: str) -> str:
    """The highlighted route in full: the table cuts its long arms at 80 columns."""
    from llmbench.services.routes import describe_applies, describe_arms

    route = item.route
    origin = "the database"
    if item.origin == "config":
        origin = f"the config ({config_source})" if config_source else "the config"
    lines = [
        f"{route.name} · from {origin} · applies to {describe_applies(route)}"
        f" · by the {route.key} tag",
        f"Arms: {describe_arms(route)}",
    ]
    if item.replaced:
        lines.append("Not tried: the database's route of this name replaces it.")
    elif item.origin == "config":
        lines.append("e saves an edited copy in the database, which replaces it.")
    return "\n".join(lines)


class RoutesScreen(PaneScreen["RoutesListing"]):
    """Pushed over the models view; escape goes back to it."""

    PANE_TITLE = "Models › Routes"
    AUTO_FOCUS = "#routes-table"
    EMPTY_TEXT = NO_ROUTES
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add route", id="routes_add"),
        Binding("e", "edit", "Edit route", id="routes_edit"),
        Binding("d", "delete", "Delete route", id="routes_delete"),
        Binding("escape", "close", "Back to models", id="routes_close"),
    ]

    DEFAULT_CSS = """
    RoutesScreen {
        #routes-caption { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
        #routes-table { height: auto; max-height: 60%; min-height: 3; }
        #route-detail {
            height: 1fr; min-height: 3; padding: 0 1; border-top: solid $primary-darken-2;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.listing: RoutesListing | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="routes-caption", markup=False)
        yield FittedTable(id="routes-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="route-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#routes-table", DataTable)
        for key, label in ROUTE_COLUMNS:
            table.add_column(label, key=key)

    # -- reading ---------------------------------------------------------------------------------
    def fetch(self) -> RoutesListing:
        from llmbench.services.routes import list_routes

        return list_routes(self.bench.store, self.bench.settings)

    def show(self, data: RoutesListing) -> None:
        self.listing = data
        tried = sum(not item.replaced for item in data.routes)
        caption = (
            f"{tried} route{'s' if tried != 1 else ''}, tried top to bottom: the first that "
            "applies picks the arm"
        )
        if data.problem:
            caption = f"Stored routes cannot be read: {data.problem}"
        self.query_one("#routes-caption", Static).update(caption)
        table = self.query_one("#routes-table", DataTable)
        kept = highlighted_key(table)
        table.clear()
        for item in data.routes:
            table.add_row(*route_row(item), key=_row_key(item))
        restore_cursor(table, kept)
        self.set_empty(not data.routes and not data.problem)
        self._show_detail()

    def highlighted(self) -> ListedRoute | None:
        key = highlighted_key(self.query_one("#routes-table", DataTable))
        if key is None or self.listing is None:
            return None
        return next((item for item in self.listing.routes if _row_key(item) == key), None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def _show_detail(self) -> None:
        item = self.highlighted()
        source = self.listing.config_source if self.listing else ""
        text = route_detail(item, source) if item else ""
        self.query_one("#route-detail", Static).update(text)

    # -- writing ---------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss()

    def action_add(self) -> None:
        self.app.push_screen(route_dialog(None), partial(self._save, ""))

    def action_edit(self) -> None:
        item = self.highlighted()
        if item is None:
            self.notify("No route to edit: a adds one.", title="Routes")
            return
        replaces = item.origin == "config" and not item.replaced
        # A database route saved under a new name is renamed; a config route is left alone.
        renamed_from = item.route.name if item.origin == "database" else ""
        dialog = route_dialog(item.route, replaces_config=replaces)
        self.app.push_screen(dialog, partial(self._save, renamed_from))

    def _save(self, renamed_from: str, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.routes import parse_route, save_route

        # The dialog checked these with the same parser; nothing typed can change since.
        route = parse_route(values["name"], values["arms"], values["applies"], values["key"])
        store = self.bench.store

        def save() -> bool:
            return save_route(store, route, renamed_from)

        def saved(replaced: bool) -> None:
            if renamed_from and renamed_from != route.name:
                text = f"Renamed route {renamed_from} to {route.name}."
            else:
                text = f"{'Replaced' if replaced else 'Added'} route {route.name}."
            self.notify(text, title="Routes")
            self.reload()

        self.act_in_thread(save, saved, what=f"Save route {route.name}")

    def action_delete(self) -> None:
        item = self.highlighted()
        if item is None:
            self.notify("No route to delete.", title="Routes")
            return
        name = item.route.name
        if item.origin == "config":
            source = self.listing.config_source if self.listing else ""
            where = f"the config file ({source})" if source else "the config file"
            self.notify(
                f"Route {name} is in {where}, not the database: edit it there.",
                title="Routes",
                severity="warning",
            )
            return
        question = f"Delete route {name}? Its traffic goes back to the models it names."
        if self.listing and self.listing.find(name, "config"):
            question = f"Delete route {name}? The config's route of this name applies again."

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(name)

        self.app.push_screen(ConfirmDialog("Delete route", question, yes="Delete"), answered)

    def _delete(self, name: str) -> None:
        from llmbench.services.routes import remove_route

        store = self.bench.store

        def delete() -> bool:
            return remove_route(store, name)

        def deleted(removed: bool) -> None:
            text = f"Deleted route {name}." if removed else f"No route {name} in the database."
            self.notify(text, title="Routes", severity="information" if removed else "warning")
            self.reload()

        self.act_in_thread(delete, deleted, what=f"Delete route {name}")
