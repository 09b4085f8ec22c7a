"""The secret that keys the audit log's hash chain, and the chain's head, kept outside the
database.

One key per database file (named by the file's random `db_id`): in the OS keyring when a real
one exists, else in a 0600 file under the config dir. Without the key nobody can recompute the
chain after editing the log — including whoever copies the database file alone. Beside the key
(the same keyring, or a 0600 file beside the key file) llmbench keeps the chain's head: the
last call, how many calls the log held and the last hash, HMAC'd with the key, so a cut tail or
an emptied log shows without a checkpoint.

A key is created only for a database that has never sealed a call: a copied database must
bring its key along (`llmbench audit key export` / `import`), or its chain would split.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from llmbench import paths
from llmbench.core.audit.chain import ChainHead, key_id
from llmbench.gateway.keys import keyring_status
from llmbench.store.audit.chain_records import (
    ChainKeyMismatch,
    database_id,
    has_history,
    key_mismatch,
    sealed_key_id,
)
from llmbench.store.db import Store, StoreError

try:
    import fcntl
except ImportError:  # Windows: the process-wide lock below still orders this process's writes
    fcntl = None  # type: ignore[assignment]

KEYRING_SERVICE = "llmbench-audit-chain"
KEY_BYTES = 32
HEAD_SUFFIX = ":head"

KeyPlace = Literal["file", "keyring"]


class ChainKeyMissing(LookupError):
    """The key for a database's chain is not on this machine."""


class ChainKeyNotHere(ChainKeyMissing, StoreError):
    """The database already holds sealed calls, and their key is not on this machine."""


class ChainKeyFileError(StoreError):
    """An export or import file cannot be used; the message says why."""


def keys_dir() -> Path:
    return paths.config_dir() / "audit-keys"


def key_file(db_id: str) -> Path:
    return keys_dir() / f"{db_id}.key"


def head_file(db_id: str) -> Path:
    return keys_dir() / f"{db_id}.head"


def parse_key(text: str, origin: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ChainKeyMissing(f"{origin} does not hold a hex chain key") from None
    if len(key) < 16:
        raise ChainKeyMissing(f"{origin} holds a chain key that is too short")
    return key


def _read_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ChainKeyMissing(f"{path} cannot be read as a chain key ({error})") from None
    return parse_key(text, str(path))


def write_private(path: Path, text: str) -> None:
    """Create `path` 0600 with `text`; never over an existing file or through a symlink."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _secure_keyring() -> bool:
    status = keyring_status()
    return status.available and not status.plaintext


_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


@contextlib.contextmanager
def chain_lock(db_id: str) -> Iterator[None]:
    """Orders key creation and head updates for one database across threads and processes."""
    with _process_locks_guard:
        lock = _process_locks.setdefault(db_id, threading.Lock())
    with lock:
        if fcntl is None:
            yield
            return
        keys_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(keys_dir() / f"{db_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def _keyring_key(db_id: str) -> bytes | None:
    if not _secure_keyring():
        return None
    import keyring

    stored = keyring.get_password(KEYRING_SERVICE, db_id)
    return parse_key(stored, "the keyring's chain key") if stored else None


def key_place(db_id: str) -> KeyPlace | None:
    """Where this machine keeps the key of a database, if anywhere."""
    if key_file(db_id).exists():
        return "file"
    return "keyring" if _keyring_key(db_id) is not None else None


def _missing(db_id: str) -> ChainKeyMissing:
    return ChainKeyMissing(
        f"no audit-chain key for database {db_id} on this machine (looked in the OS keyring "
        f"and {key_file(db_id)}); pass --key-file, or import it with "
        "`llmbench audit key import FILE`"
    )


def store_key(db_id: str, key: bytes) -> KeyPlace:
    """Keep a new key where keys go: the OS keyring, else a 0600 file."""
    if _secure_keyring():
        import keyring

        keyring.set_password(KEYRING_SERVICE, db_id, key.hex())
        return "keyring"
    write_private(key_file(db_id), key.hex() + "\n")
    return "file"


def load_chain_key(db_id: str, *, create: bool = True, explicit_file: Path | None = None) -> bytes:
    """The chain key for a database: an explicit file, the keyring, the key file, or (with
    `create`) a new one. Writers use `chain_key_for`, which refuses to create a key for a
    database that already sealed calls."""
    if explicit_file is not None:
        return _read_file(explicit_file)
    path = key_file(db_id)
    if path.exists():
        return _read_file(path)
    stored = _keyring_key(db_id)
    if stored is not None:
        return stored
    if not create:
        raise _missing(db_id)
    with chain_lock(db_id):
        if path.exists():  # another process created it meanwhile
            return _read_file(path)
        stored = _keyring_key(db_id)
        if stored is not None:
            return stored
        key = secrets.token_bytes(KEY_BYTES)
        store_key(db_id, key)
        return key


def forget_unused_key(db_id: str) -> None:
    """Remove the key (its lock and head too) of a database that never sealed a call and no
    longer exists: one a refused command created and removed again. Never call it for a
    database that still exists or sealed anything: its chain could not be verified again."""
    with chain_lock(db_id):
        if _secure_keyring():
            import keyring

            for name in (db_id, db_id + HEAD_SUFFIX):
                with contextlib.suppress(Exception):  # nothing there, or a backend without delete
                    keyring.delete_password(KEYRING_SERVICE, name)
        for path in (key_file(db_id), head_file(db_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    with contextlib.suppress(FileNotFoundError):
        (keys_dir() / f"{db_id}.lock").unlink()


def not_here(db_id: str, path: Path) -> str:
    return (
        f"{path} already holds sealed audit calls, but the key that seals them (database "
        f"{db_id}) is not on this machine — was the file copied? A new key would split its "
        "chain, so none was created. Bring the key along: `llmbench audit key export FILE "
        f"--db {path.name}` where it was written, then `llmbench audit key import FILE --db "
        f"{path}` here"
    )


def chain_key_for(store: Store) -> bytes:
    """The key a writer seals this store's calls with: its existing key, or a new one for a
    database that never sealed a call. Refuses (ChainKeyNotHere) to create a key for a database
    with sealed calls, and (ChainKeyMismatch) a key other than the one its calls are sealed
    with."""
    db = store.read()
    db_id = database_id(db)
    try:
        key = load_chain_key(db_id, create=False)
    except ChainKeyMissing:
        if has_history(db):
            raise ChainKeyNotHere(not_here(db_id, store.path)) from None
        key = load_chain_key(db_id, create=True)
    sealed_with = sealed_key_id(db)
    if sealed_with is not None and sealed_with != key_id(key):
        raise ChainKeyMismatch(key_mismatch(sealed_with, key_id(key)))
    return key


# -- the head ----------------------------------------------------------------------------------
def _head_text(head: ChainHead, mac: str) -> str:
    return json.dumps(
        {
            "db_id": head.db_id,
            "call_id": head.call_id,
            "count": head.count,
            "hash": head.hash,
            "form_first_call_id": head.form_first_call_id,
            "mac": mac,
        },
        separators=(",", ":"),
    )


def _parse_head(text: str, db_id: str) -> tuple[ChainHead, str]:
    try:
        data = json.loads(text)
        head = ChainHead(
            db_id=db_id,
            call_id=int(data["call_id"]),
            count=int(data["count"]),
            hash=str(data["hash"]),
            form_first_call_id=(
                None if data.get("form_first_call_id") is None else int(data["form_first_call_id"])
            ),
        )
        return head, str(data["mac"])
    except (ValueError, TypeError, KeyError):
        # Unreadable: kept as a head that cannot verify, so verification says it was altered.
        return ChainHead(db_id, 0, 0, ""), ""


def read_head(db_id: str) -> tuple[ChainHead, str] | None:
    """The head recorded beside the key of a database, with its stored HMAC."""
    path = head_file(db_id)
    if path.exists():
        return _parse_head(path.read_text(encoding="utf-8"), db_id)
    if _secure_keyring():
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, db_id + HEAD_SUFFIX)
        if stored:
            return _parse_head(stored, db_id)
    return None


def write_head(db_id: str, head: ChainHead, mac: str) -> None:
    """Record the head where the key is: the keyring, else a 0600 file beside the key file
    (replaced atomically). Call under `chain_lock`."""
    text = _head_text(head, mac)
    if not key_file(db_id).exists() and _keyring_key(db_id) is not None:
        import keyring

        keyring.set_password(KEYRING_SERVICE, db_id + HEAD_SUFFIX, text)
        return
    path = head_file(db_id)
    staged = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    write_private(staged, text)
    os.replace(staged, path)


def _aside(path: Path) -> Path:
    """A free name beside `path` to keep a replaced key or head under."""
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.name}.replaced-{n}")
        if not candidate.exists():
            return candidate
    raise ChainKeyFileError(f"too many replaced keys beside {path}; tidy {path.parent}")


def _put_head_aside(db_id: str) -> None:
    head = head_file(db_id)
    recorded = read_head(db_id)
    if head.exists():
        os.replace(head, _aside(head))
    elif recorded is not None:
        write_private(_aside(head), _head_text(*recorded))
        import keyring

        with contextlib.suppress(Exception):  # a backend without delete: it is replaced later
            keyring.delete_password(KEYRING_SERVICE, db_id + HEAD_SUFFIX)


def discard_head(db_id: str) -> None:
    """Stop comparing with the recorded head (kept aside in a 0600 file, never destroyed)."""
    with chain_lock(db_id):
        _put_head_aside(db_id)


def replace_key(db_id: str, key: bytes) -> KeyPlace:
    """Keep `key` as the database's key, the key it replaces (and the head recorded with it)
    kept aside in 0600 files, never destroyed."""
    with chain_lock(db_id):
        old_file = key_file(db_id)
        if old_file.exists():
            os.replace(old_file, _aside(old_file))
        else:
            old = _keyring_key(db_id)
            if old is not None:
                write_private(_aside(old_file), old.hex() + "\n")
        _put_head_aside(db_id)
        if _keyring_key(db_id) is not None:
            import keyring

            keyring.set_password(KEYRING_SERVICE, db_id, key.hex())
            return "keyring"
        return store_key(db_id, key)
