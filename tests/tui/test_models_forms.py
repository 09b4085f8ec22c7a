"""What the models view's dialogs read (F8): a route's fields with the CLI's parser and words,
a price's fields checked before anything is saved, the provider a model's key belongs to, and
a keyring backend's own error kept out of what is told."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from llmbench.core.traffic.routing import Arm, Route, RouteError, parse_arm
from llmbench.gateway.keys import KeyStoreError
from llmbench.services.models.price_entry import read_price_entry
from llmbench.services.models.provider_keys import provider_of_model, store_provider_key
from llmbench.services.routes import (
    applies_text,
    arms_text,
    describe_arms,
    parse_route,
    route_problem,
)
from llmbench.tui.screens.models_dialogs import NewKey

SECRET = "sk-leak-5e2d9c81a07b"


def test_a_dialogs_route_reads_short_arms_and_the_clis_specs() -> None:
    route = parse_route(
        "canary",
        "gpt-4o=90; name=new,weight=10,version=staging",
        "prompt=support-reply tier=free",
        "",
    )
    assert route == Route(
        "canary",
        (Arm("gpt-4o", 90.0, "gpt-4o"), Arm("new", 10.0, "", "staging")),
        prompt="support-reply",
        key="user",
        when={"tier": "free"},
    )
    assert describe_arms(route) == "gpt-4o 90% → gpt-4o | new 10% → version staging"
    # What the dialog shows to edit reads back as the same route.
    assert parse_route(route.name, arms_text(route), applies_text(route), route.key) == route


@pytest.mark.parametrize(
    ("arms", "applies", "cli_spec"),
    [
        ("gpt-4o=lots", "", "name=gpt-4o,weight=lots,model=gpt-4o"),
        ("name=a,weight=1,colour=red", "", "name=a,weight=1,colour=red"),
        ("name=a,weight=inf,model=m", "", "name=a,weight=inf,model=m"),
    ],
)
def test_a_bad_arm_is_told_in_the_clis_words(arms: str, applies: str, cli_spec: str) -> None:
    with pytest.raises(RouteError) as cli:
        parse_arm(cli_spec)
    assert route_problem("r", arms, applies) == str(cli.value)


def test_a_route_without_arms_weights_or_a_target_is_refused() -> None:
    assert route_problem("r", "") == "route 'r' has no arms"
    assert route_problem("r", "gpt-4o=0") == "route 'r' needs positive weights"
    assert (
        route_problem("r", "name=a,weight=1") == "every arm of route 'r' needs a model or a version"
    )
    assert route_problem("", "gpt-4o=1") == "a route needs a name"
    assert (
        route_problem("r", "gpt-4o=1", "tier")
        == "'tier': write prompt=NAME, model=NAME or TAG=VALUE"
    )
    assert route_problem("r", "gpt-4o=1", "tier=free") is None


def test_a_price_is_read_whole_or_refused() -> None:
    entry = read_price_entry("m", "$3.5", "1,200", "", "2025-05-20")
    assert (entry.price.input, entry.price.output, entry.price.cached) == (3.5, 1200.0, 3.5)
    assert entry.from_date == "2025-05-20"
    assert read_price_entry("m", "1", "2", "0.1", "2025-05-20").price.cached == 0.1
    for fields, told in (
        (("", "2", "", "2025-05-20"), "Input and Output prices are required"),
        (("1", "two", "", "2025-05-20"), "Output: 'two' is not a number"),
        (("1", "2", "nan", "2025-05-20"), "Cached input: write a finite number"),
        (("1", "-2", "", "2025-05-20"), "prices cannot be negative"),
        (("1", "2", "", "2025-13-01"), "'2025-13-01' is not a date (YYYY-MM-DD)"),
    ):
        with pytest.raises(ValueError, match=r".+") as refused:
            read_price_entry("m", *fields)
        assert str(refused.value).startswith(told)


def test_a_models_key_provider() -> None:
    assert provider_of_model("gpt-4o", "openai") == "openai"
    assert provider_of_model("together_ai/llama", "together_ai") == "together"
    assert provider_of_model("anthropic/claude-x", "") == "anthropic"
    assert provider_of_model("llmbench/mock", "llmbench") is None
    assert provider_of_model("my-own-model", "") is None


class BrokenKeyring(KeyringBackend):
    """A backend whose unexpected error repeats what it was asked to store."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot write {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("read-only")


@pytest.fixture
def broken_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.usefixtures("broken_keyring")
def test_a_backends_own_error_never_carries_the_key() -> None:
    with pytest.raises(KeyStoreError) as refused:
        store_provider_key("openai", SECRET)
    assert str(refused.value) == "The keyring failed to store the openai key (RuntimeError)."
    assert SECRET not in repr(refused.value)


def test_a_new_key_on_its_way_to_the_keyring_hides_in_its_repr() -> None:
    assert SECRET not in repr(NewKey("openai", SECRET))
