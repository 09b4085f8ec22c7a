"""The secret that keys the audit log's hash chain, kept outside the database.

One key per database file (named by the file's random `db_id`): in the OS keyring when a real
one exists, else in a 0600 file under the config dir. Without the key nobody can recompute the
chain after editing the log — including whoever copies the database file alone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from llmbench import paths
from llmbench.gateway.keys import keyring_status

KEYRING_SERVICE = "llmbench-audit-chain"
KEY_BYTES = 32


class ChainKeyMissing(LookupError):
    """The key for a database's chain is not on this machine."""


def key_file(db_id: str) -> Path:
    return paths.config_dir() / "audit-keys" / f"{db_id}.key"


def _read_file(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ChainKeyMissing(f"{path} does not hold a hex chain key") from None
    if len(key) < 16:
        raise ChainKeyMissing(f"{path} holds a chain key that is too short")
    return key


def _write_private(path: Path, key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")


def _secure_keyring() -> bool:
    status = keyring_status()
    return status.available and not status.plaintext


def load_chain_key(db_id: str, *, create: bool = True, explicit_file: Path | None = None) -> bytes:
    """The chain key for a database: an explicit file, the keyring, the key file, or a new one."""
    if explicit_file is not None:
        return _read_file(explicit_file)
    path = key_file(db_id)
    if path.exists():
        return _read_file(path)
    use_keyring = _secure_keyring()
    if use_keyring:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, db_id)
        if stored:
            return bytes.fromhex(stored)
    if not create:
        raise ChainKeyMissing(
            f"no audit-chain key for database {db_id} on this machine "
            f"(looked in the OS keyring and {path}); pass --key-file"
        )
    key = secrets.token_bytes(KEY_BYTES)
    if use_keyring:
        import keyring

        keyring.set_password(KEYRING_SERVICE, db_id, key.hex())
    else:
        _write_private(path, key)
    return key
