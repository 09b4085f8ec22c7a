"""F8 Models from the keyboard, on a private copy of the demo database: the routes view (`R`)
against `llmbench routes list`, a route added, edited and deleted, with the CLI's own words for
a mistake; a model's price set (`p`) and shown at once, a bad price refused with nothing saved;
a provider's key (`K`; `k` moves up, as in every list) shown by where it comes from and stored
in an in-memory keyring, never on screen, in a notification or in the database file; the
palette and F1 offering all three; and each of them usable at 80×24."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends.fail import Keyring as NoKeyring
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static
from textual.worker import WorkerCancelled

from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.core.traffic.routing import Arm, Route
from llmbench.gateway.keys import PROVIDERS
from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.model_columns import ModelTable
from llmbench.tui.screens.models import ModelsScreen
from llmbench.tui.screens.models_dialogs import KeyDialog
from llmbench.tui.screens.models_routes import RoutesScreen
from tests.support.memory_keyring import MemoryKeyring
from tests.tui.conftest import DEMO_NOW, SIZE, demo_settings, open_pane, settle

SECRET = "sk-tui-7c41e0d9a2b85f36"
CONFIG_ROUTE = Route(
    "free-tier", (Arm("mini", 100.0, "gpt-4o-mini"),), key="user", when={"tier": "free"}
)


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in PROVIDERS.values():
        monkeypatch.delenv(spec.env_var, raising=False)


@pytest.fixture
def memory_keyring(no_key_env: None) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(no_key_env: None) -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield
    keyring.set_keyring(previous)


def _settings() -> Settings:
    base = demo_settings()
    return Settings(general=base.general, routes=(CONFIG_ROUTE,))


@asynccontextmanager
async def _models_pane(
    path: Path, size: tuple[int, int] = SIZE, settings: Settings | None = None
) -> AsyncIterator[tuple[LLMBenchApp, Pilot[None]]]:
    with open_db(path, create=False) as store:
        app = LLMBenchApp(
            store, settings or _settings(), db_label="demo.db", clock=lambda: DEMO_NOW
        )
        _record_notes(app)
        async with app.run_test(size=size) as pilot:
            await open_pane(pilot, "f8")
            yield app, pilot
            # No read may still run when the store closes: closing a connection while its
            # thread runs a statement crashes SQLite (seen in CI as a segfault).
            await _workers_done(app)


async def _workers_done(app: LLMBenchApp) -> None:
    for _ in range(3):  # a read that finishes can start another (the detail panel's)
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await asyncio.sleep(0.05)


_SEEN: dict[int, list[str]] = {}


def _record_notes(app: LLMBenchApp) -> None:
    """Every notification as it is raised: a toast expires after its timeout, which a slow
    (loaded) run can pass before the test looks."""
    seen = _SEEN[id(app)] = []  # ids are reused: each app starts its own list
    raise_note = app.notify

    def recording(message: str, *, title: str = "", **options: Any) -> None:
        seen.append(f"{title} {message}")
        raise_note(message, title=title, **options)

    app.notify = recording  # type: ignore[method-assign]


def _screen_text(app: LLMBenchApp) -> str:
    """What the terminal shows, as text (the SVG export's text, entities undone)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def _notes(app: LLMBenchApp) -> list[str]:
    return list(_SEEN.get(id(app), []))


def _sql(path: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(query, args).fetchall()


async def _fill(pilot: Pilot[None], values: dict[str, str]) -> None:
    """Replace a form's fields, by name, with these values, as a paste would."""
    for name, value in values.items():
        field = pilot.app.screen.query_one(f"#field-{name}", Input)
        field.focus()
        field.value = value
    await pilot.pause()


async def _highlight(pilot: Pilot[None], model: str) -> None:
    table = pilot.app.screen.query_one("#models-table", ModelTable)
    keys = [row.key for row in table.rows]
    await pilot.press("home", *["down"] * keys.index(model))
    await pilot.pause()
    assert table.cursor_key == model


def _cli_output(*args: str) -> str:
    """What `llmbench ARGS` says when it refuses them."""
    result = CliRunner().invoke(cli, list(args), prog_name="llmbench")
    assert result.exit_code != 0
    return result.output


# -- routes ---------------------------------------------------------------------------------------
async def test_routes_view_lists_adds_edits_and_deletes_routes(pristine_copy: Path) -> None:
    async with _models_pane(pristine_copy) as (app, pilot):
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RoutesScreen)
        table = screen.query_one("#routes-table", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]
        # The demo stores no route: the config's is the one listed, with its origin and arm.
        assert rows == [["free-tier", "config", "tier=free", "mini 100% → gpt-4o-mini"]]

        await pilot.press("a")
        await pilot.pause()
        await _fill(pilot, {"name": "canary", "arms": "gpt-4o=abc; gpt-4o-mini=10"})
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error", Static).render())
        assert error == "arm 'name=gpt-4o,weight=abc,model=gpt-4o': weight must be a number"
        cli_said = _cli_output(
            "routes", "set", "canary", "--arm", "name=gpt-4o,weight=abc,model=gpt-4o",
            "--db", str(pristine_copy),
        )  # fmt: skip
        assert f"llmbench: {error} (see 'llmbench routes set --help')" in cli_said
        assert _sql(pristine_copy, "SELECT count(*) FROM routes") == [(0,)]

        await _fill(pilot, {"arms": "gpt-4o=90; gpt-4o-mini=10", "applies": "prompt=support-reply"})
        await pilot.press("enter")
        await settle(pilot)
        stored = _sql(pristine_copy, "SELECT name, prompt, key, arms FROM routes")
        assert [row[:3] for row in stored] == [("canary", "support-reply", "user")]
        assert '"weight": 90.0' in str(stored[0][3]) and "gpt-4o-mini" in str(stored[0][3])
        rows = {str(table.get_row_at(row)[0]): row for row in range(table.row_count)}
        canary = [str(cell) for cell in table.get_row_at(rows["canary"])]
        assert canary == [
            "canary",
            "database",
            "prompt=support-reply",
            "gpt-4o 90% → gpt-4o | gpt-4o-mini 10% → gpt-4o-mini",
        ]
        assert any("Added route canary" in note for note in _notes(app))

        # Edit: the arms come back in the CLI's spec; a new split under a new name replaces
        # the route (renamed, not copied).
        table.move_cursor(row=rows["canary"])
        await pilot.press("e")
        await pilot.pause()
        arms = app.screen.query_one("#field-arms", Input).value
        assert arms == (
            "name=gpt-4o,weight=90,model=gpt-4o; name=gpt-4o-mini,weight=10,model=gpt-4o-mini"
        )
        await _fill(pilot, {"name": "canary-b", "arms": "gpt-4o=50; gpt-4o-mini=50"})
        await pilot.press("enter")
        await settle(pilot)
        assert _sql(pristine_copy, "SELECT name FROM routes") == [("canary-b",)]
        assert str(table.get_row_at(rows["canary"])[0]) == "canary-b"
        assert any("Renamed route canary to canary-b" in note for note in _notes(app))
        detail = str(screen.query_one("#route-detail", Static).render())
        assert "gpt-4o 50% → gpt-4o | gpt-4o-mini 50% → gpt-4o-mini" in detail

        # A config route cannot be deleted here; the database's asks first.
        table.move_cursor(row=rows["free-tier"])
        await pilot.press("d")
        await pilot.pause()
        assert any("in the config file" in note for note in _notes(app))
        table.move_cursor(row=rows["canary"])
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot)
        assert _sql(pristine_copy, "SELECT count(*) FROM routes") == [(1,)]
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert _sql(pristine_copy, "SELECT count(*) FROM routes") == [(0,)]
        assert table.row_count == 1

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)


async def test_a_database_route_replaces_the_configs_of_its_name(pristine_copy: Path) -> None:
    async with _models_pane(pristine_copy) as (app, pilot):
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("e")  # the config's route, saved as a database route
        await pilot.pause()
        assert "replaces the config's" in str(app.screen.query_one(".dialog-title").render())
        await _fill(pilot, {"arms": "mini=gpt-4o-mini"})
        await pilot.press("enter")
        await pilot.pause()
        error = str(app.screen.query_one("#form-error", Static).render())
        assert error == "arm 'name=mini,weight=gpt-4o-mini,model=mini': weight must be a number"
        await _fill(pilot, {"arms": "name=mini,weight=100,model=gpt-4o-mini; gpt-4o=5"})
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#routes-table", DataTable)
        origins = [[str(c) for c in table.get_row_at(row)][:2] for row in range(table.row_count)]
        assert origins == [["free-tier", "database"], ["free-tier", "config (replaced)"]]


# -- prices ---------------------------------------------------------------------------------------
async def test_p_sets_the_highlighted_models_price_and_the_view_shows_it(
    pristine_copy: Path,
) -> None:
    async with _models_pane(pristine_copy) as (app, pilot):
        await _highlight(pilot, "gpt-4o")
        before = _sql(pristine_copy, "SELECT count(*) FROM prices")
        await pilot.press("p")
        await pilot.pause()
        from_date = app.screen.query_one("#field-from_date", Input).value
        assert from_date == DEMO_NOW.date().isoformat()

        for bad, told in (
            ({"input": "abc"}, "Input: 'abc' is not a number (USD per 1M tokens)"),
            ({"input": "-1"}, "prices cannot be negative"),
            ({"input": "3", "from_date": "June"}, "'June' is not a date (YYYY-MM-DD)"),
        ):
            await _fill(pilot, bad)
            await pilot.press("enter")
            await pilot.pause()
            assert str(app.screen.query_one("#form-error", Static).render()) == told
        assert _sql(pristine_copy, "SELECT count(*) FROM prices") == before

        await _fill(
            pilot, {"input": "3.5", "output": "12", "cached": "", "from_date": "2025-05-20"}
        )
        await pilot.press("enter")
        await settle(pilot)
        assert _sql(
            pristine_copy,
            "SELECT input, output, cached, source FROM prices WHERE model = 'gpt-4o'"
            " AND from_date = '2025-05-20'",
        ) == [(3.5, 12.0, 3.5, "user")]
        table = app.screen.query_one("#models-table", ModelTable)
        columns = [column.key for column in table.columns]
        row = next(row for row in table.rows if row.key == "gpt-4o")
        cells = dict(zip(columns, row.cells, strict=True))
        assert (cells["input"], cells["output"]) == ("3.50", "12.00")
        facts = str(app.screen.query_one("#model-facts", Static).render())
        assert "in 3.50 · out 12.00 · cached 3.50" in facts and "(prices table)" in facts
        assert any("$3.5 in / $12 out / $3.5 cached" in note for note in _notes(app))


# -- keys -----------------------------------------------------------------------------------------
async def test_capital_k_stores_a_key_that_never_shows(
    pristine_copy: Path, memory_keyring: MemoryKeyring
) -> None:
    async with _models_pane(pristine_copy) as (app, pilot):
        await _highlight(pilot, "gpt-4o")
        await pilot.press("K")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, KeyDialog), _notes(app)
        status = str(dialog.query_one("#key-status", Static).render())
        assert status == "openai: no key configured (OPENAI_API_KEY or keyring)."

        await pilot.press(*SECRET)
        await pilot.pause()
        assert dialog.query_one("#key-value", Input).value == SECRET
        typed = _screen_text(app)
        assert SECRET not in typed and SECRET[:8] not in typed and "•" * 8 in typed
        # A pane's F-key over a typed key: refused, the key stays typed, and the notice says
        # what is held without saying it.
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen is dialog and app.current_mode == "models"
        assert dialog.query_one("#key-value", Input).value == SECRET
        assert any("the openai key typed" in note for note in _notes(app))

        await pilot.press("enter")
        await settle(pilot)
        assert memory_keyring.secrets == {("llmbench", "openai"): SECRET}
        assert isinstance(app.screen, ModelsScreen)
        assert any("Stored the openai key" in note for note in _notes(app))
        assert not any(SECRET in note for note in _notes(app))
        assert SECRET not in _screen_text(app)

        await pilot.press("K")  # where it is now, still without the key
        await settle(pilot)
        status = str(app.screen.query_one("#key-status", Static).render())
        assert status.startswith("openai: key configured in the OS keyring")
        assert SECRET not in _screen_text(app)
        await pilot.press("escape")
        await pilot.pause()

    written = b"".join(
        path.read_bytes() for path in pristine_copy.parent.iterdir() if path.is_file()
    )
    assert SECRET.encode() not in written


async def test_capital_k_says_the_environment_wins_and_a_built_in_model_needs_no_key(
    pristine_copy: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    async with _models_pane(pristine_copy) as (app, pilot):
        await _highlight(pilot, "gpt-4o")
        table = app.screen.query_one("#models-table", ModelTable)
        await pilot.press("j")
        assert table.cursor_key != "gpt-4o"
        await pilot.press("k")  # vim-style up, as in every list: the key dialog is K
        assert table.cursor_key == "gpt-4o" and isinstance(app.screen, ModelsScreen)
        await pilot.press("K")
        await settle(pilot)
        status = str(app.screen.query_one("#key-status", Static).render())
        assert status == (
            "openai: key configured in the environment variable OPENAI_API_KEY.\n"
            "OPENAI_API_KEY wins over the keyring while it is set."
        )
        assert SECRET not in _screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await _highlight(pilot, "llmbench/mock")
        await pilot.press("K")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert any("needs no key" in note for note in _notes(app))


async def test_capital_k_without_a_keyring_says_so_and_stores_nothing(
    pristine_copy: Path, no_keyring: None
) -> None:
    async with _models_pane(pristine_copy, size=(80, 24)) as (app, pilot):
        await _highlight(pilot, "gpt-4o")
        await pilot.press("K")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, KeyDialog), _notes(app)
        status = str(dialog.query_one("#key-status", Static).render())
        assert "Cannot store a key here: No OS keyring is available" in status
        assert "Set OPENAI_API_KEY in llmbench's environment instead." in status
        assert dialog.query_one("#key-value", Input).disabled
        assert dialog.query_one("#store", Button).disabled
        await pilot.press(*"sk-typed")
        await pilot.pause()
        assert dialog.query_one("#key-value", Input).value == ""
        assert "sk-typed" not in _screen_text(app)
        _fits(app, "#key-status", Button)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)


# -- the palette, F1, and 80×24 -------------------------------------------------------------------
async def test_the_palette_and_f1_offer_routes_prices_and_keys(pristine_copy: Path) -> None:
    async with _models_pane(pristine_copy) as (app, pilot):
        titles = {command.title for command in app._pane_action_commands()}
        assert {"Models: Routes", "Models: Set price", "Models: API key"} <= titles
        await pilot.press("f1")
        await pilot.pause()
        help_rows = app.screen.query_one("#help-keys", DataTable)
        ids = {str(help_rows.get_row_at(row)[2]) for row in range(help_rows.row_count)}
        assert {"routes_view", "price_set", "key_set"} <= ids
        await pilot.press("escape")
        await pilot.pause()

        # From the palette: the routes view opens over the models view.
        app.run_on_pane("models", "routes")
        await settle(pilot)
        assert isinstance(app.screen, RoutesScreen)


def _fits(app: LLMBenchApp, *selectors: str) -> None:
    screen = app.screen.region
    for selector in selectors:
        for widget in app.screen.query(selector):
            region = widget.region
            assert region.height > 0 and screen.contains_region(region), (selector, region)


async def test_routes_prices_and_keys_are_usable_at_80x24(
    pristine_copy: Path, memory_keyring: MemoryKeyring
) -> None:
    async with _models_pane(pristine_copy, size=(80, 24)) as (app, pilot):
        await _highlight(pilot, "gpt-4o")
        await pilot.press("p")
        await pilot.pause()
        _fits(app, Input, Button, "#form-error")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("K")
        await settle(pilot)
        _fits(app, "#key-status", Input, Button)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("R")
        await settle(pilot)
        _fits(app, "#routes-table", "#route-detail")
        await pilot.press("a")
        await pilot.pause()
        _fits(app, Input, Button, "#form-error")
