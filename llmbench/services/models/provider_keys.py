"""Provider API keys as the models view (F8, `K`) shows and sets them: whether the highlighted
model's provider has a key and where it comes from (its environment variable or the OS
keyring) — never the key itself — and storing one in the keyring, as `llmbench keys set` does.

Nothing here returns, logs or raises a key's value: a backend's unexpected error is told by
its type alone, since its text could repeat what it was asked to store. Keyring reads may
wait on a desktop keyring (D-Bus, an unlock prompt): callers run these in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmbench.gateway.keys import (
    PROVIDERS,
    KeyringStatus,
    KeyStatus,
    KeyStoreError,
    keyring_status,
    list_keys,
    provider_for_litellm,
    set_key,
)

BUILTIN_PROVIDER = "llmbench"


@dataclass(frozen=True)
class ProviderKeys:
    """Where every provider's key comes from, and whether the keyring can store one."""

    keyring: KeyringStatus
    keys: dict[str, KeyStatus]
    env_vars: dict[str, str]
    """The environment variable litellm reads for each provider."""

    def detail(self, provider: str) -> str:
        status = self.keys.get(provider)
        if status is None:
            return "unknown provider"
        if status.source is None:
            return f"no key configured {status.detail.removeprefix('not set ')}"
        return f"key configured in the {status.detail}"


def provider_names() -> tuple[str, ...]:
    return tuple(sorted(PROVIDERS))


def provider_of_model(model: str, litellm_provider: str) -> str | None:
    """The key provider serving `model`: from litellm's provider of its table entry, else the
    name's prefix (`anthropic/claude-…`); None for the built-in models, which need no key,
    and for a model of no known provider."""
    if litellm_provider == BUILTIN_PROVIDER or model.startswith(f"{BUILTIN_PROVIDER}/"):
        return None
    for name in (litellm_provider, model.split("/", 1)[0] if "/" in model else ""):
        if not name:
            continue
        spec = provider_for_litellm(name) or PROVIDERS.get(name.lower())
        if spec is not None:
            return spec.provider
    return None


def provider_keys() -> ProviderKeys:
    """Each provider's key status (no values) and the keyring's."""
    return ProviderKeys(
        keyring=keyring_status(),
        keys={status.provider: status for status in list_keys()},
        env_vars={name: spec.env_var for name, spec in PROVIDERS.items()},
    )


def store_provider_key(provider: str, value: str) -> KeyringStatus:
    """Store the key in the OS keyring. KeyStoreError or ValueError say why not (no keyring
    here, an empty key, an unknown provider), never with the key in the words."""
    try:
        return set_key(provider, value)
    except (KeyStoreError, ValueError):
        raise
    except Exception as error:  # a backend's own error text may echo the secret
        raise KeyStoreError(
            f"The keyring failed to store the {provider} key ({type(error).__name__})."
        ) from None
