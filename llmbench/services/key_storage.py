"""What the workbench says about where API keys can be kept, once it has started — and only
the first time it has that to say about a database."""

from __future__ import annotations

import contextlib
import os

from llmbench.gateway.keys import PROVIDERS, keyring_status
from llmbench.store.db import Store, StoreError
from llmbench.store.meta import get_meta, set_meta

# The meta key holding the notice last shown for this database.
NOTICE_SHOWN = "key_storage_notice_shown"

# keyring's null backend is what a user picks to turn the keyring off on purpose: no nagging.
_CHOSEN_OFF = "keyring.backends.null."


def key_storage_notice() -> str | None:
    """A warning to show, or None. A plaintext keyring backend is always worth a warning; a
    missing one only when no provider key is in the environment either, so there is nowhere
    safe to keep one."""
    status = keyring_status()
    if status.plaintext:
        return status.message
    if status.available or status.backend_name.startswith(_CHOSEN_OFF):
        return None
    if any(os.environ.get(spec.env_var, "").strip() for spec in PROVIDERS.values()):
        return None
    return (
        f"Secure key storage is unavailable: {status.message}. llmbench stores no API key; "
        "set them as environment variables (e.g. OPENAI_API_KEY)."
    )


def key_storage_notice_once(store: Store) -> str | None:
    """The notice to show at start-up, or None: nothing to say, or the same words were shown
    for this database before (a notice seen at every start is one nobody reads, and it covers
    the pane). Different words — the keyring went away, or turned plaintext — show again."""
    notice = key_storage_notice()
    if notice is None or get_meta(store.read(), NOTICE_SHOWN) == notice:
        return None
    # A file that takes no writes cannot remember it: shown again next time, but shown.
    with contextlib.suppress(StoreError):
        store.write(lambda db: set_meta(db, NOTICE_SHOWN, notice))
    return notice
