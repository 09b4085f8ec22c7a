"""API keys: environment first, then the OS keyring; never a key in a message or a repr."""

from __future__ import annotations

import logging
import traceback

import pytest
from keyring.backends import chainer, fail
from keyring.errors import PasswordSetError

from llmbench.gateway.keys import (
    PROVIDERS,
    KeyStoreUnavailable,
    UnknownProvider,
    delete_key,
    get_key,
    keyring_status,
    list_keys,
    provider_for_litellm,
    set_key,
)

from .conftest import InstallKeyring, MemoryKeyring

SECRET = "sk-test-4f8a1c2e9b7d6035"
OTHER_SECRET = "sk-env-0b1c2d3e4f5a6978"

pytestmark = pytest.mark.usefixtures("no_key_env")


class PlaintextKeyring(MemoryKeyring):
    """Named and placed like keyrings.alt's file backend, which stores keys in clear text."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class EmptyChainer(chainer.ChainerBackend):
    """What keyring picks when it finds no backend to chain: it stores nothing, silently."""

    backends = []  # type: ignore[assignment]  # a classproperty on the base class


class LeakyKeyring(MemoryKeyring):
    """A backend whose error repeats what it was asked to store."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"could not store {password}")


def test_keyring_key_is_found_and_listed_without_its_value(memory_keyring: MemoryKeyring) -> None:
    status = set_key("openai", f"  {SECRET}\n")
    assert status.available and not status.plaintext
    assert memory_keyring.secrets == {("llmbench", "openai"): SECRET}

    source = get_key("OpenAI")
    assert source is not None
    assert (source.provider, source.source, source.value) == ("openai", "keyring", SECRET)
    assert SECRET not in repr(source)
    assert SECRET not in str(source)

    listed = {status.provider: status for status in list_keys()}
    assert set(listed) == set(PROVIDERS)
    assert listed["openai"].source == "keyring"
    assert listed["anthropic"].source is None
    assert SECRET not in repr(list_keys())


def test_environment_wins_over_the_keyring(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key("anthropic", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", OTHER_SECRET)
    source = get_key("anthropic")
    assert source is not None
    assert (source.source, source.env_var, source.value) == (
        "env",
        "ANTHROPIC_API_KEY",
        OTHER_SECRET,
    )
    listed = {status.provider: status for status in list_keys()}
    assert listed["anthropic"].source == "env"
    assert "ANTHROPIC_API_KEY" in listed["anthropic"].detail
    assert OTHER_SECRET not in repr(list_keys())


def test_delete_removes_only_the_keyring_copy(memory_keyring: MemoryKeyring) -> None:
    set_key("groq", SECRET)
    assert delete_key("groq") is True
    assert delete_key("groq") is False
    assert get_key("groq") is None


def test_no_backend_explains_how_to_use_the_environment(
    use_keyring: InstallKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    for backend in (fail.Keyring(), EmptyChainer()):
        use_keyring(backend)
        status = keyring_status()
        assert not status.available
        assert "No OS keyring" in status.message
        with pytest.raises(KeyStoreUnavailable) as raised:
            set_key("openai", SECRET)
        message = str(raised.value)
        assert "export OPENAI_API_KEY=" in message
        assert SECRET not in message
        with pytest.raises(KeyStoreUnavailable):
            delete_key("openai")
        assert get_key("openai") is None
        assert all(status.source is None for status in list_keys())

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    source = get_key("openai")
    assert source is not None and source.source == "env"


def test_plaintext_backend_is_named_with_a_warning(
    use_keyring: InstallKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    use_keyring(PlaintextKeyring())
    status = keyring_status()
    assert status.available and status.plaintext
    assert status.backend_name == "keyrings.alt.file.PlaintextKeyring"
    assert status.message.startswith("Warning")
    with caplog.at_level(logging.WARNING, logger="llmbench.gateway.keys"):
        stored = set_key("mistral", SECRET)
    assert stored.plaintext
    assert "stores secrets in a file" in caplog.text
    assert SECRET not in caplog.text


def test_a_backend_error_never_carries_the_key(use_keyring: InstallKeyring) -> None:
    use_keyring(LeakyKeyring())
    with pytest.raises(KeyStoreUnavailable) as raised:
        set_key("xai", SECRET)
    printed = "".join(traceback.format_exception(raised.value))
    assert "PasswordSetError" in printed
    assert SECRET not in printed


def test_unknown_provider_lists_the_known_ones(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(UnknownProvider) as raised:
        set_key("openia", SECRET)
    assert "openai" in str(raised.value) and "anthropic" in str(raised.value)
    assert SECRET not in str(raised.value)
    with pytest.raises(UnknownProvider):
        get_key("openia")


def test_empty_key_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="empty"):
        set_key("openai", "   ")
    assert memory_keyring.secrets == {}


def test_litellm_provider_names_map_to_keys() -> None:
    together = provider_for_litellm("together_ai")
    assert together is not None and together.env_var == "TOGETHERAI_API_KEY"
    assert provider_for_litellm("cohere_chat") == PROVIDERS["cohere"]
    assert provider_for_litellm("ollama") is None


def test_keyring_reads_are_remembered_until_the_key_changes(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    read_from_memory = memory_keyring.get_password

    def counting_read(service: str, username: str) -> str | None:
        reads.append(username)
        return read_from_memory(service, username)

    monkeypatch.setattr(memory_keyring, "get_password", counting_read)
    set_key("openai", SECRET)
    for _ in range(3):
        source = get_key("openai")
        assert source is not None and source.value == SECRET
    assert reads == ["openai"]
    set_key("openai", OTHER_SECRET)
    source = get_key("openai")
    assert source is not None and source.value == OTHER_SECRET
    assert delete_key("openai")
    assert get_key("openai") is None
