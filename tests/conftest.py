from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
