"""F2's `G` with real keys on a private copy of the demo database: the highlighted prompt's guard
policy is shown, a value `llmbench prompts guard` refuses is refused with its reason and saves
nothing, accepted settings are saved as the CLI saves them, and ctrl+r drops them."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from llmbench.core.guard.policy import parse_policy
from llmbench.services.prompts.guard_policy import checked_policy, form_values
from llmbench.store.db import Store, open_db
from llmbench.tui.app import LLMBenchApp
from llmbench.tui.screens.prompts.guard_dialog import GuardPolicyDialog
from llmbench.tui.screens.prompts.pane import PromptsScreen
from tests.tui.conftest import DEMO_NOW, REVIEWER, SIZE, demo_settings, settle


@pytest.fixture
def own_store(pristine_copy: Path) -> Iterator[Store]:
    store = open_db(pristine_copy, create=False)
    store.write(lambda db: db.execute("DELETE FROM guard_policies"))  # a known start
    yield store
    store.close()


def _app(store: Store) -> LLMBenchApp:
    return LLMBenchApp(store, demo_settings(), db_label="demo.db", clock=lambda: DEMO_NOW)


def _stored(store: Store) -> dict[str, tuple[dict[str, Any], str]]:
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT p.name, g.policy, g.updated_by FROM guard_policies g"
            " JOIN prompts p ON p.id = g.prompt_id"
        ).fetchall()
    return {name: (json.loads(policy), by) for name, policy, by in rows}


async def _until(pilot: Pilot[None], screen_type: type, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, screen_type):
            await settle(pilot, timeout=timeout_s)
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{screen_type.__name__} did not open; on {pilot.app.screen!r}")


def _dialog(app: LLMBenchApp) -> GuardPolicyDialog:
    assert isinstance(app.screen, GuardPolicyDialog), app.screen
    return app.screen


def _text(dialog: GuardPolicyDialog, selector: str) -> str:
    return str(dialog.query_one(selector, Static).render())


def _fill(dialog: GuardPolicyDialog, **values: str) -> None:
    for name, value in values.items():
        dialog.query_one(f"#guard-{name}", Input).value = value


async def test_g_shows_refuses_saves_and_drops_a_prompts_guard_policy(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, PromptsScreen) and pane.prompt_history is not None
        name = pane.prompt_history.prompt.name
        await pilot.press("G")
        await _until(pilot, GuardPolicyDialog)
        dialog = _dialog(app)
        summary = _text(dialog, "#guard-summary-text")
        assert "No own policy: the config's [guard] applies." in summary
        assert "flag   token_limit invisible bidi" in summary  # the config's, none starred
        assert "redact secret" in summary and "*" not in summary

        _fill(dialog, actions="pii=shout")
        await pilot.press("enter")
        await pilot.pause()
        assert dialog is app.screen  # still open, saying why
        assert "unknown action 'shout'" in _text(dialog, "#guard-error")
        _fill(dialog, actions="pii=redact", max_tokens_per_request="-5")
        await pilot.press("enter")
        await pilot.pause()
        assert "max_tokens_per_request: a positive number of tokens, not -5" in _text(
            dialog, "#guard-error"
        )
        assert _stored(own_store) == {}  # a refused value saved nothing

        _fill(
            dialog,
            actions="pii=redact, injection=block",
            injection_threshold="0.7",
            max_tokens_per_request="",
            max_tokens_per_variable="0",
            banned_phrases="as an AI; guaranteed, always",
        )
        await pilot.press("enter")
        await _until(pilot, PromptsScreen)
        expected = {
            "actions": {"pii": "redact", "injection": "block"},
            "injection_threshold": 0.7,
            "max_tokens_per_variable": None,
            "banned_phrases": ["as an AI", "guaranteed, always"],
        }
        assert _stored(own_store) == {name: (expected, REVIEWER)}

        await pilot.press("G")
        await _until(pilot, GuardPolicyDialog)
        dialog = _dialog(app)
        summary = _text(dialog, "#guard-summary-text")
        assert "Own policy" in summary and "redact email* phone*" in summary
        assert "threshold 0.7*" in summary and '"guaranteed, always"' in summary
        assert dialog.query_one("#guard-actions", Input).value == "injection=block, pii=redact"
        await pilot.press("ctrl+r")
        await _until(pilot, PromptsScreen)
        assert _stored(own_store) == {}


async def test_the_guard_dialog_fits_80_by_24(own_store: Store) -> None:
    app = _app(own_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("G")
        await _until(pilot, GuardPolicyDialog)
        dialog = _dialog(app)
        screen = dialog.region
        for widget in (*dialog.query(Input), *dialog.query("Button")):
            region = widget.region
            assert region.height >= 1 and screen.contains_region(region), widget
        assert dialog.query_one("#guard-actions", Input).has_focus


def test_the_fields_make_the_policy_the_cli_would_and_keep_what_they_do_not_show() -> None:
    own = {"actions": {"email": "block"}, "leak_min_words": 12, "banned_phrases": ["x; y"]}
    values = form_values(own)
    assert values["actions"] == "email=block" and values["injection_threshold"] == ""
    values["max_tokens_per_request"] = "none"
    base = parse_policy({})
    changed = checked_policy(values, own, base)
    assert changed == {**own, "max_tokens_per_request": None}  # the phrase left whole
    values["actions"] = "email = block  pii=Redact"
    assert checked_policy(values, own, base)["actions"] == {"email": "block", "pii": "redact"}
    values["banned_phrases"] = "x; y; x"
    assert checked_policy(values, own, base)["banned_phrases"] == ["x", "y"]


def test_what_the_dialog_saves_the_cli_shows_and_both_refuse_alike(own_store: Store) -> None:
    from click.testing import CliRunner

    from llmbench.cli import cli
    from llmbench.services.prompts.guard_policy import PolicyError, save_policy

    name, prompt_id = own_store.read().execute("SELECT name, id FROM prompts LIMIT 1").fetchone()
    base = demo_settings().guard.policy()
    values = {"actions": "pii=redact", "banned_phrases": "as an AI"}
    saved = save_policy(own_store, prompt_id, checked_policy(values, {}, base), base, by="me")
    assert saved.source("email") == "prompt (pii)" and saved.policy.action("email") == "redact"

    def cli_guard(*options: str) -> str:
        args = ["prompts", "guard", name, *options, "--db", str(own_store.path)]
        return CliRunner().invoke(cli, args, prog_name="llmbench").output

    shown = cli_guard()
    assert f"{name}: own policy" in shown and '"as an AI"  (prompt)' in shown
    assert "email                    redact  prompt (pii)" in shown

    with pytest.raises(PolicyError) as refused:
        checked_policy({**values, "actions": "pii=shout"}, saved.own, base)
    with pytest.raises(PolicyError):
        save_policy(own_store, prompt_id, {"actions": {"pii": "shout"}}, base, by="me")
    assert str(refused.value) in cli_guard("--set", "pii=shout")
    assert _stored(own_store)[name][0] == saved.own  # neither refusal wrote anything
