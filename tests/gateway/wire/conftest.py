"""Fixtures of the Anthropic Messages wire tests: the loopback server speaking Anthropic's API,
a key for it in the environment (never the user's keyring), and a fresh audit log per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.store.db import Store, open_db
from tests.support.anthropic_server import AnthropicServer, running_anthropic_server

# What litellm sends as x-api-key; the tests check that it reaches no row.
ANTHROPIC_TEST_KEY = "sk-ant-api03-loopback-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[AnthropicServer]:
    """A real HTTP server on 127.0.0.1 speaking Anthropic's Messages API, one per module."""
    yield from running_anthropic_server()


@pytest.fixture
def anthropic_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY)
    return ANTHROPIC_TEST_KEY


@pytest.fixture
def anthropic_store(tmp_path: Path, anthropic_key: str) -> Iterator[Store]:
    with open_db(tmp_path / "anthropic.db") as opened:
        yield opened
