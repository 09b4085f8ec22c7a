"""Scenario 4 — API keys with no keyring backend, and with a plaintext one.

What it proves:
  * with keyring's fail backend (what keyring falls back to on a headless box with no Secret
    Service) and no provider key in the environment, the TUI starts, says secure key storage is
    unavailable, and nothing is stored: the backend is never asked to store anything,
    `llmbench keys set` refuses with a one-line message naming the environment variable (no
    traceback), and the key is in no file under the llmbench home nor in the database;
  * a backend that keeps secrets in a plain file is detected (keyring_status().plaintext), the
    TUI warns about it at start, `keys set` warns on stderr, and the audit chain's key is kept
    out of it (chain keys go to a 0600 file instead).

The plaintext backend here is a real keyring backend writing JSON to a file; keyrings.alt is not
a dependency, so the detection by class name (`...PlaintextKeyring`) is what is exercised, next
to the check for keyrings.alt's module.

Runtime: ~2 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from llmbench.cli import cli
from llmbench.config import Settings
from llmbench.gateway.chain_key import load_chain_key
from llmbench.gateway.keys import PROVIDERS, keyring_status
from llmbench.store.audit.log import database_id
from llmbench.store.db import open_db
from llmbench.tui.app import LLMBenchApp
from tests.tui.conftest import settle

SECRET = "sk-reliability-0123456789abcdef"


class CountingFailKeyring(fail.Keyring):
    """keyring's own fail backend, counting what it was asked to store."""

    def __init__(self) -> None:
        super().__init__()
        self.stores = 0

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stores += 1
        super().set_password(service, username, password)


class PlaintextKeyring(KeyringBackend):
    """Secrets as JSON in a file anyone with the user's rights can read."""

    priority = -1  # type: ignore[assignment]  # never picked unless installed by the test

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        secrets = self._load()
        secrets[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(secrets))

    def delete_password(self, service: str, username: str) -> None:
        secrets = self._load()
        if secrets.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self.path.write_text(json.dumps(secrets))


@pytest.fixture(autouse=True)
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in PROVIDERS.values():
        monkeypatch.delenv(spec.env_var, raising=False)


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    """The test installs its own backend; the previous one comes back afterwards."""
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


async def _start_app(db: Path) -> list[str]:
    """Start the TUI, let its start-up workers finish, and return what it told the user."""
    store = open_db(db)
    try:
        app = LLMBenchApp(store, Settings())
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)  # the key-storage check starts once the first pane's data shows
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is not None and app.is_running
            return [str(n.message) for n in app._notifications]
    finally:
        store.close()


def _files_holding(folder: Path, text: str) -> list[Path]:
    return [
        path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()
    ]


async def test_no_backend_the_app_starts_says_so_and_stores_nothing(
    restore_keyring: None, isolated_home: Path, tmp_path: Path
) -> None:
    backend = CountingFailKeyring()
    keyring.set_keyring(backend)
    status = keyring_status()
    assert not status.available and not status.plaintext

    messages = await _start_app(tmp_path / "app.db")
    assert any("Secure key storage is unavailable" in m for m in messages), messages

    result = CliRunner().invoke(cli, ["keys", "set", "openai", "--value", SECRET])
    assert result.exit_code == 1
    assert "Cannot use the keyring for the openai key" in result.output
    assert "OPENAI_API_KEY" in result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    listed = CliRunner().invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0 and "No OS keyring is available" in listed.output

    assert backend.stores == 0
    assert _files_holding(isolated_home, SECRET) == []
    assert _files_holding(tmp_path, SECRET) == []


async def test_a_plaintext_backend_is_detected_and_warned_about(
    restore_keyring: None, isolated_home: Path, tmp_path: Path
) -> None:
    secrets_file = tmp_path / "keyring.json"
    keyring.set_keyring(PlaintextKeyring(secrets_file))
    status = keyring_status()
    assert status.available and status.plaintext
    assert "stores secrets in a file" in status.message

    messages = await _start_app(tmp_path / "app.db")
    assert any("stores secrets in a file" in m for m in messages), messages

    result = CliRunner().invoke(cli, ["keys", "set", "openai", "--value", SECRET])
    assert result.exit_code == 0
    assert "warning:" in result.output and "stores secrets in a file" in result.output
    # The user asked for it, so the key is stored — where the warning said it would be.
    assert _files_holding(tmp_path, SECRET) == [secrets_file]
    # The audit chain's key is never put in such a backend: it goes to a private file.
    with open_db(tmp_path / "app.db") as store:
        load_chain_key(database_id(store.read()))
    stored = json.loads(secrets_file.read_text())
    assert not any(name.startswith("llmbench-audit-chain/") for name in stored)
    chain_keys = list(isolated_home.rglob("audit-keys/*.key"))
    assert chain_keys and all(path.stat().st_mode & 0o777 == 0o600 for path in chain_keys)


async def test_a_keyring_turned_off_on_purpose_is_not_nagged_about(tmp_path: Path) -> None:
    # The suite's own setting (conftest): PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring.
    assert not keyring_status().available
    messages = await _start_app(tmp_path / "app.db")
    assert not any("key storage" in m or "keyring" in m for m in messages), messages
