"""The settings load the guard's policy rules, the routing rules and the TOML parser only when
a config needs them (`llmbench/config.py`). What a config means and how a wrong one is refused
stay exactly as they were: the messages below are those the eager module gave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmbench import config, paths
from llmbench.config import ConfigError, GuardSettings, load_settings, parse_settings
from llmbench.core.guard.policy import DEFAULT_POLICY, parse_policy


def test_the_default_guard_section_is_a_valid_policy_so_it_need_not_be_checked() -> None:
    # parse_settings skips checking a [guard] equal to the defaults: this is why it may.
    policy = GuardSettings().policy()
    assert policy == parse_policy({}, base=config.config_guard_base())
    # The config's base: the core's defaults, with limits and banned phrases only flagged.
    assert policy.actions == {
        **DEFAULT_POLICY.actions,
        "token_limit": "flag",
        "banned_phrase": "flag",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"guard": {"actions": {"pii": "explode"}}},
            "config: [guard] actions.pii: unknown action 'explode' (one of allow, flag, redact,"
            " block)",
        ),
        (
            {"guard": {"injection_threshold": 2.0}},
            "config: [guard] injection_threshold: a number above 0 and at most 1, not 2.0",
        ),
        (
            {"guard": {"check_low": 0.5, "check_high": 0.2}},
            "config: [guard] check_low (0.5) must be below check_high (0.2): the band is"
            " [check_low, check_high); set both to 0 to turn the model check off",
        ),
        ({"guard": {"actions": "x"}}, "config: [guard].actions must be a table of strings"),
        (
            {"guard": {"leak_min_words": 0}},
            "config: [guard] leak_min_words: a whole number of words, at least 3, not 0",
        ),
        (
            {"guard": {"banned_phrases": ["  "]}},
            "config: [guard] banned_phrases[0]: a non-empty phrase, not '  '",
        ),
        (
            {"routes": [{"name": "x", "arms": [{"name": "a", "weight": -1}]}]},
            "config: [[routes]] #1: route 'x' needs positive weights",
        ),
        (
            {"routes": [{"name": "x", "arms": [{"name": "a", "weight": "z"}]}]},
            "config: [[routes]] #1: could not convert string to float: 'z'",
        ),
        ({"routes": {}}, "config: routes must be written as [[routes]] tables"),
    ],
)
def test_a_wrong_guard_or_route_is_refused_in_the_same_words(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    assert str(error.value) == message


def test_a_guard_section_and_routes_from_the_file_are_read(isolated_home: Path) -> None:
    paths.config_path().write_text(
        '[guard]\nactions = { pii = "redact" }\ninjection_threshold = 0.7\n'
        '[[routes]]\nname = "canary"\nprompt = "support-reply"\n'
        'arms = [{ name = "a", weight = 90, version = "3" }, { name = "b", weight = 10,'
        ' version = "4" }]\n'
    )
    settings = load_settings()
    policy = settings.guard.policy()
    assert policy.actions["email"] == "redact" and policy.injection_threshold == 0.7
    assert [route.name for route in settings.routes] == ["canary"]
    assert [arm.weight for arm in settings.routes[0].arms] == [90.0, 10.0]


def test_defaults_without_a_file_have_no_routes(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.routes == () and settings.guard == GuardSettings()
