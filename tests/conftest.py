from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Session-wide too: fixtures wider than a test (module, session) run before the per-test
    home below, and must not write keys or databases into the real user folders either."""
    os.environ["LLMBENCH_HOME"] = tempfile.mkdtemp(prefix="llmbench-session-")
    # Nor into a desktop's real keyring: tests that want a keyring install their own.
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own LLMBENCH_HOME, so no test touches the user's files or settings."""
    home = tmp_path_factory.mktemp("llmbench-home")
    monkeypatch.setenv("LLMBENCH_HOME", str(home))
    for variable in ("LLMBENCH_DB", "LLMBENCH_CONFIG", "LLMBENCH_REVIEWER", "LLMBENCH_THEME"):
        monkeypatch.delenv(variable, raising=False)
    yield home
