"""Keyring backends for the gateway tests. They are real keyring backends (subclasses of
keyring's KeyringBackend, installed with keyring.set_keyring), kept in memory so no test
touches the user's keyring."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType

import keyring
import pytest
from keyring.backend import KeyringBackend

from llmbench.gateway.client import shutdown, shutdown_sync
from llmbench.gateway.keys import PROVIDERS
from llmbench.gateway.litellm_setup import litellm_module
from tests.support.memory_keyring import MemoryKeyring
from tests.support.openai_server import OpenAICompatibleServer, running_server

InstallKeyring = Callable[[KeyringBackend], None]


@pytest.fixture
def use_keyring() -> Iterator[InstallKeyring]:
    """Install keyring backends during one test; the previous one comes back afterwards."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: InstallKeyring) -> MemoryKeyring:
    backend = MemoryKeyring()
    use_keyring(backend)
    return backend


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider key in the environment, whatever the developer's shell has."""
    for spec in PROVIDERS.values():
        monkeypatch.delenv(spec.env_var, raising=False)


@pytest.fixture(autouse=True)
async def finish_litellm_background_work() -> AsyncIterator[None]:
    """Each test runs on its own event loop: stop litellm's logging worker before the loop
    closes, as the app does at exit."""
    yield
    # complete_sync()'s loop first: litellm's worker forgets a loop's task once it is used
    # from another loop, and the forgotten task is then destroyed while pending.
    shutdown_sync()
    await shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAICompatibleServer]:
    """A real OpenAI-compatible HTTP server on 127.0.0.1, one per test module."""
    yield from running_server()


@pytest.fixture
def no_litellm_callbacks() -> Iterator[ModuleType]:
    """litellm with no callback registered; whatever a test registers is removed after it."""
    litellm = litellm_module()
    names = ("callbacks", "success_callback", "_async_success_callback", "input_callback")
    names += ("failure_callback", "_async_failure_callback")
    saved = {name: list(getattr(litellm, name)) for name in names}
    for name in names:
        getattr(litellm, name)[:] = []
    yield litellm
    for name, previous in saved.items():
        getattr(litellm, name)[:] = previous
