"""What the workbench says about where API keys can be kept, once it has started."""

from __future__ import annotations

import os

from llmbench.gateway.keys import PROVIDERS, keyring_status

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
