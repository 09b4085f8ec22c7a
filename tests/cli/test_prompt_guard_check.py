"""`llmbench prompts guard NAME --check-band LOW:HIGH --check-model MODEL`: the model check's
band and judge as a prompt's own policy fields, over the config's [guard], on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from llmbench.cli import cli as cli_main
from llmbench.store.db import open_db
from llmbench.store.prompts.guard_policies import get_guard_policy
from llmbench.store.prompts.versions import create_prompt


@pytest.fixture
def prompt_db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "cli.db"
    with open_db(path) as opened:
        prompt_id = opened.write(lambda db: create_prompt(db, "support-reply"))
    return path, prompt_id


def _own(path: Path, prompt_id: int) -> dict[str, object]:
    with open_db(path) as opened:
        stored = get_guard_policy(opened.read(), prompt_id)
    return dict(stored.policy) if stored else {}


def test_the_band_and_the_model_are_set_shown_and_turned_off(prompt_db) -> None:
    path, prompt_id = prompt_db
    runner = CliRunner()
    base = ["prompts", "guard", "support-reply", "--db", str(path)]
    shown = runner.invoke(cli_main, base)
    assert shown.exit_code == 0, shown.output
    assert "model_check              off\n" in shown.output + "\n"
    assert "model_check              flag    config" in shown.output  # the failure's action
    set_ = runner.invoke(
        cli_main, [*base, "--check-band", "0.2:0.5", "--check-model", "llmbench/mock"]
    )
    assert set_.exit_code == 0, set_.output
    assert "model_check              [0.2, 0.5) judged by llmbench/mock  (prompt)" in set_.output
    assert _own(path, prompt_id) == {
        "check_low": 0.2,
        "check_high": 0.5,
        "check_model": "llmbench/mock",
    }
    off = runner.invoke(cli_main, [*base, "--check-band", "off"])
    assert off.exit_code == 0, off.output
    assert "model_check              off  (prompt)" in off.output
    assert _own(path, prompt_id)["check_high"] == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--check-band", "0.2:0.5"], "check_model: the model that judges"),
        (["--check-band", "0.5:0.2", "--check-model", "m"], "must be below check_high"),
        (["--check-band", "0.2:1.5", "--check-model", "m"], "check_high: an injection score"),
        (["--check-band", "0.2-0.5", "--check-model", "m"], "write LOW:HIGH, e.g. 0.2:0.5"),
        (["--check-band", "low:high", "--check-model", "m"], "write LOW:HIGH, e.g. 0.2:0.5"),
    ],
)
def test_a_wrong_band_is_refused_and_nothing_is_saved(
    prompt_db, options: list[str], message: str
) -> None:
    path, prompt_id = prompt_db
    result = CliRunner().invoke(
        cli_main, ["prompts", "guard", "support-reply", "--db", str(path), *options]
    )
    assert result.exit_code == 2 and message in result.output
    assert _own(path, prompt_id) == {}


def test_the_config_s_band_shows_as_the_config_s(prompt_db, isolated_home: Path) -> None:
    path, _ = prompt_db
    config = isolated_home / "config.toml"
    config.write_text(
        '[guard]\ncheck_low = 0.3\ncheck_high = 0.6\ncheck_model = "llmbench/mock"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli_main,
        ["prompts", "guard", "support-reply", "--db", str(path)],
        env={"LLMBENCH_CONFIG": str(config)},
    )
    assert result.exit_code == 0, result.output
    assert "model_check              [0.3, 0.6) judged by llmbench/mock\n" in result.output


def test_f2_s_dialog_keeps_the_band_the_cli_set(prompt_db) -> None:
    """The dialog shows no band fields: saving it keeps the prompt's band as it was."""
    from llmbench.config import GuardSettings
    from llmbench.services.prompts.guard_policy import (
        checked_policy,
        form_values,
        read_policy,
        save_policy,
    )

    path, prompt_id = prompt_db
    band = ["--check-band", "0.25:0.45", "--check-model", "llmbench/mock"]
    CliRunner().invoke(cli_main, ["prompts", "guard", "support-reply", "--db", str(path), *band])
    base = GuardSettings().policy()
    with open_db(path) as store:
        kept = read_policy(store, prompt_id, base).own
        values = {**form_values(kept), "actions": "injection=block"}
        view = save_policy(store, prompt_id, checked_policy(values, kept, base), base, by="me")
    assert view.policy.model_check and view.policy.action("injection") == "block"
    assert (view.policy.check_low, view.policy.check_high) == (0.25, 0.45)
