"""The models view's dialogs (F8): a model's price (`p`), a route (`R`, then `a` or `e`), and a
provider's API key (`K`).

The price and route dialogs are forms whose values are read with the services' own parsers
before they close, so a mistake is told in the dialog and nothing is saved. The key dialog says
whether the provider has a key and where it comes from, never the key, and takes a new one in
a password field; it keeps no draft of what is typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from llmbench.tui.screens.dialogs import DIALOG_CSS, Field, FormDialog
from llmbench.tui.screens.model_columns import per_million

if TYPE_CHECKING:
    from llmbench.core.models import Price
    from llmbench.core.traffic.routing import Route
    from llmbench.services.models.provider_keys import ProviderKeys

# Four fields fit at 80×24 when the inputs are one line each, as here.
COMPACT_CSS = """
    Input, Input:focus { border: none; height: 1; padding: 0 1; background: $boost; }
    Input:focus { background: $accent 30%; }
    Select { height: 1; }
    Select > SelectCurrent { border: none; height: 1; padding: 0 1; }
    Label { padding-top: 1; }
"""


class CompactFormDialog(FormDialog):
    """A FormDialog whose fields take one line each, so a form of four fits at 80×24."""

    DEFAULT_CSS = "CompactFormDialog {" + COMPACT_CSS + "}"


def _usd_field(price: float | None) -> str:
    return "" if price is None else per_million(price).replace(",", "")


def price_dialog(model: str, current: Price | None, day: str) -> CompactFormDialog:
    """The fields of `llmbench prices set MODEL`, filled with the price billed today."""
    from llmbench.services.models.price_entry import read_price_entry

    def check(values: dict[str, str]) -> str | None:
        try:
            read_price_entry(
                model, values["input"], values["output"], values["cached"], values["from_date"]
            )
        except ValueError as error:
            return str(error)
        return None

    fields = [
        Field("input", "Input, USD per 1M tokens", _usd_field(current and current.input)),
        Field("output", "Output, USD per 1M tokens", _usd_field(current and current.output)),
        Field(
            "cached",
            "Cached input, USD per 1M tokens (empty: the input price)",
            _usd_field(current and current.cached),
        ),
        Field("from_date", "From (YYYY-MM-DD); earlier calls keep their price", day),
    ]
    return CompactFormDialog(f"Price of {model}", fields, validate=check)


def route_dialog(route: Route | None, *, replaces_config: bool = False) -> CompactFormDialog:
    """Add a route (None) or edit one; what is saved is always a database route."""
    from llmbench.services.routes import applies_text, arms_text, route_problem

    def check(values: dict[str, str]) -> str | None:
        return route_problem(values["name"], values["arms"], values["applies"], values["key"])

    title = "New route" if route is None else f"Edit route {route.name}"
    if replaces_config:
        title += " (saved in the database, it replaces the config's)"
    fields = [
        Field("name", "Name", route.name if route else "", placeholder="gpt-canary"),
        Field(
            "arms",
            "Arms, `;` between: MODEL=WEIGHT or name=..,weight=..,model=|version=",
            arms_text(route) if route else "",
            placeholder="gpt-4o=90; gpt-4o-mini=10",
        ),
        Field(
            "applies",
            "Applies to (empty: every request): prompt=NAME model=NAME TAG=VALUE",
            applies_text(route) if route else "",
            placeholder="prompt=support-reply tier=free",
        ),
        Field("key", "Tag that keeps a request on its arm", route.key if route else "user"),
    ]
    return CompactFormDialog(title, fields, validate=check)


@dataclass(frozen=True)
class NewKey:
    provider: str
    value: str

    def __repr__(self) -> str:  # a traceback's locals or a log line never shows the key
        return f"NewKey(provider={self.provider!r}, value=<hidden>)"


class KeyDialog(ModalScreen["NewKey | None"]):
    """Where a provider's key comes from, and a password field to store a new one in the OS
    keyring. With no usable keyring the field is off and the dialog says to use the
    environment variable instead."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="key_cancel")]
    DEFAULT_CSS = "KeyDialog {" + DIALOG_CSS + COMPACT_CSS + "}"

    def __init__(self, model: str, provider: str | None, keys: ProviderKeys) -> None:
        super().__init__()
        self.model = model
        self.keys = keys
        self.providers: Sequence[str] = sorted(keys.keys)
        self.provider = provider if provider in keys.keys else self.providers[0]
        self.known = provider is not None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(f"API key for {self.model}", classes="dialog-title", markup=False)
            if not self.known:
                yield Static(
                    "No known provider for this model: pick the one whose key it uses.",
                    markup=False,
                )
            yield Label("Provider")
            yield Select(
                [(name, name) for name in self.providers],
                value=self.provider,
                allow_blank=False,
                id="key-provider",
            )
            yield Static("", id="key-status", markup=False)
            yield Label("New key (stored in the OS keyring; never shown)")
            yield Input(
                password=True,
                placeholder="paste the key",
                id="key-value",
                disabled=not self.keys.keyring.available,
            )
            yield Static("", classes="dialog-error", id="key-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Store (enter)",
                    id="store",
                    variant="primary",
                    disabled=not self.keys.keyring.available,
                )
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._show_status()
        if self.keys.keyring.available:
            self.query_one("#key-value", Input).focus()
        else:  # nothing to type into: escape or enter closes it
            self.query_one("#cancel", Button).focus()

    def status_text(self) -> str:
        provider = self.provider
        env_var = self.keys.env_vars[provider]
        lines = [f"{provider}: {self.keys.detail(provider)}."]
        status = self.keys.keys[provider]
        if status.source == "env":
            lines.append(f"{env_var} wins over the keyring while it is set.")
        keyring = self.keys.keyring
        if not keyring.available:
            lines.append(
                f"Cannot store a key here: {keyring.message}. "
                f"Set {env_var} in llmbench's environment instead."
            )
        elif keyring.plaintext:
            lines.append(keyring.message)
        return "\n".join(lines)

    def _show_status(self) -> None:
        self.query_one("#key-status", Static).update(self.status_text())

    def holds_input(self) -> str | None:
        """A key typed and not stored: a pane switch leaves the dialog open (else nothing)."""
        if self.is_mounted and self.query_one("#key-value", Input).value:
            return f"the {self.provider} key typed"
        return None

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.provider = event.value
            self._show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_store()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "store":
            self.action_store()
        else:
            self.action_cancel()

    def action_store(self) -> None:
        if not self.keys.keyring.available:
            return
        field = self.query_one("#key-value", Input)
        value = field.value.strip()
        if not value:
            self.query_one("#key-error", Static).update(f"The {self.provider} key is empty.")
            return
        field.value = ""  # gone from the widget before the dialog is
        self.dismiss(NewKey(self.provider, value))

    def action_cancel(self) -> None:
        self.query_one("#key-value", Input).value = ""
        self.dismiss(None)
