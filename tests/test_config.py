from __future__ import annotations

from pathlib import Path

import pytest

from llmbench import paths
from llmbench.config import ConfigError, load_settings, render_settings


def test_defaults_without_a_file(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.source is None
    assert settings.gateway.timeout_s == 60.0
    assert "llmbench/mock" in settings.models.default_models


def test_a_file_is_read_typed_and_documented(isolated_home: Path) -> None:
    paths.config_path().write_text(
        '[general]\nreviewer = "ada"\n[gateway]\ntimeout_s = 12\n'
        '[prices."my-finetune"]\ninput = 1.5\noutput = 3\n[keymap]\nshow_costs = "f9"\n'
    )
    settings = load_settings()
    assert settings.general.reviewer == "ada"
    assert settings.gateway.timeout_s == 12.0
    assert settings.prices["my-finetune"].output == 3.0
    assert settings.keymap == {"show_costs": "f9"}
    shown = render_settings(settings)
    assert 'reviewer = "ada"' in shown
    assert "# Per-call timeout in seconds" in shown
    assert '[prices."my-finetune"]' in shown


def test_environment_overrides_the_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths.config_path().write_text('[general]\nreviewer = "ada"\n')
    monkeypatch.setenv("LLMBENCH_REVIEWER", "grace")
    assert load_settings().general.reviewer == "grace"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[general\nreviewer = 1", "line 1"),
        ("[general]\nreviewer = 1\n", "[general].reviewer must be a string"),
        ("[gateway]\ntimeout_s = 'soon'\n", "[gateway].timeout_s must be a number"),
        ("[gateway]\nretries = 3\n", "unknown setting(s): retries"),
        ("[colours]\nx = 1\n", "unknown section(s): colours"),
        ("[keymap]\nshow_costs = 5\n", "[keymap] must map binding ids"),
    ],
)
def test_bad_files_give_one_clear_error(isolated_home: Path, text: str, message: str) -> None:
    paths.config_path().write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert message in str(error.value)
    assert str(paths.config_path()) in str(error.value)


def test_db_path_precedence(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.resolve_db_path() == isolated_home / "llmbench.db"
    monkeypatch.setenv("LLMBENCH_DB", "/tmp/from-env.db")
    assert paths.resolve_db_path() == Path("/tmp/from-env.db")
    assert paths.resolve_db_path("/tmp/from-flag.db") == Path("/tmp/from-flag.db")


def test_per_model_options(isolated_home: Path) -> None:
    paths.config_path().write_text(
        '[model."gpt-4o"]\ntimeout_s = 20\nconcurrency = 4\n'
        'fallbacks = ["claude-3-5-sonnet-20241022", "llmbench/mock"]\n'
    )
    settings = load_settings()
    options = settings.model["gpt-4o"]
    assert options.timeout_s == 20.0
    assert options.concurrency == 4
    assert options.fallbacks == ("claude-3-5-sonnet-20241022", "llmbench/mock")
    assert '[model."gpt-4o"]' in render_settings(settings)
    paths.config_path().write_text('[model."gpt-4o"]\nfallbacks = "llmbench/mock"\n')
    with pytest.raises(ConfigError, match="fallbacks must be a list of strings"):
        load_settings()


def test_routes_are_parsed_and_checked(isolated_home: Path) -> None:
    paths.config_path().write_text(
        '[[routes]]\nname = "canary"\nprompt = "support-reply"\n'
        'arms = [{ name = "stable", weight = 90, version = "production" },'
        ' { name = "new", weight = 10, version = "staging" }]\n'
        '[[routes]]\nname = "free"\nwhen = { tier = "free" }\n'
        'arms = [{ name = "cheap", model = "gpt-4o-mini" }]\n'
    )
    routes = load_settings().routes
    assert [r.name for r in routes] == ["canary", "free"]
    assert routes[0].arms[1].weight == 10 and routes[1].when == {"tier": "free"}
    paths.config_path().write_text('[[routes]]\nname = "x"\narms = [{ name = "a" }]\n')
    with pytest.raises(ConfigError, match="model or a version"):
        load_settings()
