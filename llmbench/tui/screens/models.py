"""F8 Models: every model configured or used, side by side — context window, longest answer,
prices per million tokens, tool and image support, licence — beside what this database measured
of it (calls, failures, cost, latency p50/p95, evaluation pass rate and judge score). The
highlighted model's detail lists its facts in full and its figures per prompt.

From the keyboard: `p` sets the highlighted model's price, `K` shows whether its provider has
an API key and where it comes from (never the key) and stores a new one in the OS keyring, and
`R` opens the canary and tier routes (`models_routes`). Every write runs in a worker.

The figures come from `llmbench.services.models.catalog`, read in a worker; columns that do not
fit fold by priority (see `model_columns`), and the detail keeps every fact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from llmbench.tui.format import NOTHING, count, millis, model_label, money, percent
from llmbench.tui.screens.base import PaneScreen
from llmbench.tui.screens.model_columns import (
    ModelTable,
    context_text,
    judge_text,
    max_output_text,
    per_million,
    yes_no,
)
from llmbench.tui.widgets.fitted_table import FittedTable
from llmbench.tui.widgets.table_cursor import highlighted_key, restore_cursor
from llmbench.tui.widgets.virtual_table import VirtualTable

if TYPE_CHECKING:
    from llmbench.core.costs.pricing import DatedPrice
    from llmbench.core.licences import Licence
    from llmbench.services.models.catalog import Measured, ModelEntry, ModelsOverview
    from llmbench.services.models.provider_keys import KeyringStatus, ProviderKeys
    from llmbench.tui.screens.models_dialogs import NewKey

NO_PROMPT_LABEL = "(no saved prompt)"
PROMPT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("prompt", "Prompt"),
    ("calls", "Calls"),
    ("errors", "Errors"),
    ("cost", "Cost"),
    ("cells", "Eval cells"),
    ("pass", "Pass"),
    ("judge", "Judge"),
)


def _price_line(entry: ModelEntry) -> str:
    facts = entry.facts
    price = facts.price
    if price is None:
        return "$/1M tokens: unknown (its calls are unpriced until a price is set)"
    reasoning = (
        per_million(facts.reasoning_price)
        if facts.reasoning_price is not None
        else ("as output" if facts.reasoning else NOTHING)
    )
    return (
        f"$/1M tokens: in {per_million(price.input)} · out {per_million(price.output)}"
        f" · cached {per_million(price.cached)} · reasoning {reasoning}"
        f" ({facts.price_source})"
    )


def _licence_line(licence: Licence) -> str:
    line = f"Licence: {licence.name}"
    if licence.open_weight is False:
        line += " (API only)"
    elif licence.open_weight:
        line += " (open weights)"
    if licence.note:
        line += f"; {licence.note}"
    if licence.source:
        line += f" · {licence.source.removeprefix('https://')}"
    return line


def _measured_lines(measured: Measured) -> list[str]:
    calls = f"Here: {count(measured.calls)} calls"
    if measured.calls:
        calls += (
            f" · {percent(measured.error_rate)} errors · {money(measured.cost)}"
            f" · p50 {millis(measured.latency_p50)} · p95 {millis(measured.latency_p95)}"
        )
    evaluated = "Evaluated: no cells yet"
    if measured.cells:
        evaluated = (
            f"Evaluated: {count(measured.cells)} cells · {percent(measured.pass_rate)} passed"
            f" · judge {judge_text(measured.judge_score)}"
        )
    return [calls, evaluated]


def detail_text(entry: ModelEntry) -> str:
    """The highlighted model's facts in full (every folded column is here)."""
    facts = entry.facts
    kind = facts.summary if facts.in_table or facts.builtin else "not in litellm's table"
    head = " · ".join(part for part in (model_label(entry.name), facts.provider, kind) if part)
    if entry.sources:
        head += f" · from {', '.join(entry.sources)}"
    return "\n".join(
        [
            head,
            f"Context {_exact_tokens(context_text(facts), facts.context_window)}"
            f" · max output {_exact_tokens(max_output_text(facts), facts.max_output)}"
            f" · tools {yes_no(facts.tools)} · vision {yes_no(facts.vision)}"
            f" · reasoning {yes_no(facts.reasoning)}",
            _price_line(entry),
            _licence_line(facts.licence),
            *_measured_lines(entry.measured),
        ]
    )


def _exact_tokens(short: str, tokens: int | None) -> str:
    return f"{tokens:,}" if tokens is not None else short


def prompt_row(prompt: str, measured: Measured) -> tuple[str, ...]:
    return (
        prompt or NO_PROMPT_LABEL,
        count(measured.calls),
        percent(measured.error_rate),
        money(measured.cost) if measured.calls else NOTHING,
        count(measured.cells),
        percent(measured.pass_rate),
        judge_text(measured.judge_score),
    )


class ModelsScreen(PaneScreen["ModelsOverview"]):
    PANE_TITLE = "Models"
    AUTO_FOCUS = "#models-table"
    PALETTE: ClassVar[dict[str, str]] = {
        "routes_view": "Canary and tier routes: their arms, weights and origin; add, edit, delete",
        "price_set": "Set the highlighted model's price per 1M tokens, from a day on",
        "key_set": "Whether the model's provider has an API key, and store one in the keyring",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "routes", "Routes", id="routes_view"),
        Binding("p", "set_price", "Set price", id="price_set"),
        # Capital, as `R`: the table's vim-style `k` stays "up", as in every other list.
        Binding("K", "set_key", "API key", id="key_set"),
    ]

    DEFAULT_CSS = """
    ModelsScreen {
        #models-caption { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
        #models-table { height: auto; max-height: 50%; min-height: 4; }
        #model-detail { height: 1fr; min-height: 6; border-top: solid $primary-darken-2; }
        #model-facts { height: auto; padding: 0 1; }
        #model-prompts { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.overview: ModelsOverview | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="models-caption", markup=False)
        yield ModelTable(id="models-table")
        with Vertical(id="model-detail"):
            yield Static("", id="model-facts", markup=False)
            yield FittedTable(id="model-prompts", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        prompts = self.query_one("#model-prompts", DataTable)
        for key, label in PROMPT_COLUMNS:
            prompts.add_column(label, key=key)

    # -- reading ---------------------------------------------------------------------------------
    def fetch(self) -> ModelsOverview:
        from llmbench.services.models.catalog import models_overview

        bench = self.bench
        return models_overview(bench.store, bench.settings, day=bench.now().date().isoformat())

    def show(self, data: ModelsOverview) -> None:
        self.overview = data
        self._show_caption(data)
        self._fill_table()
        self._show_detail()

    def _show_caption(self, data: ModelsOverview) -> None:
        if not data.total_calls:
            read = "no calls recorded yet (`llmbench demo` builds example traffic)"
        elif data.latency_exact:
            read = f"latency over all {count(data.total_calls)} calls"
        else:
            read = (
                f"latency estimated from an even sample of {count(data.latency_calls)} of "
                f"{count(data.total_calls)} calls"
            )
        notes = [f"{len(data.models)} models", read, "prices per 1M tokens as billed today"]
        if not data.table_found:
            notes.append("litellm's model table not found: context windows unknown")
        notes += list(data.problems)
        self.query_one("#models-caption", Static).update(" · ".join(notes))

    def _fill_table(self) -> None:
        entries = self.overview.models if self.overview else ()
        self.query_one("#models-table", ModelTable).show_models(entries)

    # -- the detail ------------------------------------------------------------------------------
    def highlighted(self) -> ModelEntry | None:
        key = self.query_one("#models-table", VirtualTable).cursor_key
        if key is None or self.overview is None:
            return None
        return self.overview.entry(key)

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.highlighted()
        self.query_one("#model-facts", Static).update(detail_text(entry) if entry else "")
        table = self.query_one("#model-prompts", DataTable)
        kept = highlighted_key(table)
        table.clear()
        for figures in entry.prompts if entry else ():
            table.add_row(*prompt_row(figures.prompt, figures.measured), key=figures.prompt or "\0")
        restore_cursor(table, kept)

    # -- routes, prices and keys ---------------------------------------------------------------
    def action_routes(self) -> None:
        from llmbench.tui.screens.models_routes import RoutesScreen

        # Coming back re-reads the models (a new arm's model is listed): every pane does.
        self.app.push_screen(RoutesScreen())

    def action_set_price(self) -> None:
        from llmbench.tui.screens.models_dialogs import price_dialog

        entry = self.highlighted()
        if entry is None:
            self.notify("No model highlighted.", title="Set price")
            return
        day = self.bench.now().date().isoformat()
        dialog = price_dialog(entry.name, entry.facts.price, day)
        self.app.push_screen(dialog, lambda values: self._save_price(entry.name, values))

    def _save_price(self, model: str, values: dict[str, str] | None) -> None:
        if values is None:
            return
        from llmbench.services.models.price_entry import read_price_entry, save_price_entry

        # Checked by the dialog with the same reader: nothing can have changed since.
        price = read_price_entry(
            model, values["input"], values["output"], values["cached"], values["from_date"]
        )
        store = self.bench.store

        def save() -> DatedPrice:
            return save_price_entry(store, price)

        def saved(entry: DatedPrice) -> None:
            self.notify(
                f"{model}: ${entry.price.input:g} in / ${entry.price.output:g} out / "
                f"${entry.price.cached:g} cached per 1M tokens from {entry.from_date}.",
                title="Price set",
            )
            self.reload()

        self.act_in_thread(save, saved, what=f"Set the price of {model}")

    def action_set_key(self) -> None:
        entry = self.highlighted()
        if entry is None:
            self.notify("No model highlighted.", title="API key")
            return
        from llmbench.services.models.provider_keys import provider_of_model

        provider = provider_of_model(entry.name, entry.facts.provider)
        if provider is None and entry.facts.builtin:
            self.notify(f"{entry.name} runs offline in llmbench: it needs no key.", title="API key")
            return
        # The keyring may answer slowly (a desktop keyring over D-Bus): read it in a worker.
        self.act_in_thread(
            _key_statuses,
            lambda keys: self._open_key_dialog(entry.name, provider, keys),
            what="Read where the API keys come from",
        )

    def _open_key_dialog(self, model: str, provider: str | None, keys: ProviderKeys) -> None:
        from llmbench.tui.screens.models_dialogs import KeyDialog

        self.app.push_screen(KeyDialog(model, provider, keys), self._store_key)

    def _store_key(self, new: NewKey | None) -> None:
        if new is None:
            return
        provider, value = new.provider, new.value

        def store() -> KeyringStatus:
            from llmbench.services.models.provider_keys import store_provider_key

            return store_provider_key(provider, value)

        def stored(status: KeyringStatus) -> None:
            text = f"Stored the {provider} key in {status.backend_name}."
            if status.plaintext:
                text += f" {status.message}"
            self.notify(
                text, title="API key", severity="warning" if status.plaintext else "information"
            )

        self.act_in_thread(store, stored, what=f"Store the {provider} key")


def _key_statuses() -> ProviderKeys:
    from llmbench.services.models.provider_keys import provider_keys

    return provider_keys()
