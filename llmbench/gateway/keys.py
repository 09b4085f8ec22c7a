"""API keys: the provider's environment variable (litellm's names) first, then the OS keyring.

A key's value never appears in a repr, an exception text or a log line. keyring has no
backend on a headless Linux box, and keyrings.alt quietly makes a plaintext file the default:
keyring_status() tells these apart so the UI can say so.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Literal

SERVICE = "llmbench"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderKey:
    provider: str
    env_var: str  # the variable litellm reads
    litellm_providers: tuple[str, ...]  # litellm's provider names served by this key


PROVIDERS: dict[str, ProviderKey] = {
    spec.provider: spec
    for spec in (
        ProviderKey("openai", "OPENAI_API_KEY", ("openai", "text-completion-openai")),
        ProviderKey("anthropic", "ANTHROPIC_API_KEY", ("anthropic", "anthropic_text")),
        ProviderKey("gemini", "GEMINI_API_KEY", ("gemini",)),
        ProviderKey("mistral", "MISTRAL_API_KEY", ("mistral",)),
        ProviderKey("groq", "GROQ_API_KEY", ("groq",)),
        ProviderKey("cohere", "COHERE_API_KEY", ("cohere", "cohere_chat")),
        ProviderKey("openrouter", "OPENROUTER_API_KEY", ("openrouter",)),
        ProviderKey("deepseek", "DEEPSEEK_API_KEY", ("deepseek",)),
        ProviderKey("xai", "XAI_API_KEY", ("xai",)),
        ProviderKey("together", "TOGETHERAI_API_KEY", ("together_ai",)),
        ProviderKey("azure", "AZURE_API_KEY", ("azure", "azure_text")),
        ProviderKey("perplexity", "PERPLEXITYAI_API_KEY", ("perplexity",)),
        ProviderKey("fireworks", "FIREWORKS_AI_API_KEY", ("fireworks_ai",)),
        ProviderKey("huggingface", "HUGGINGFACE_API_KEY", ("huggingface",)),
        ProviderKey("cerebras", "CEREBRAS_API_KEY", ("cerebras",)),
        ProviderKey("deepinfra", "DEEPINFRA_API_KEY", ("deepinfra",)),
    )
}

KeyOrigin = Literal["env", "keyring"]


class KeyStoreError(Exception):
    """Base of the key store's errors; messages never contain a key."""


class UnknownProvider(KeyStoreError, LookupError):
    def __init__(self, provider: str) -> None:
        super().__init__(
            f"Unknown provider {provider!r}. Known providers: {', '.join(sorted(PROVIDERS))}."
        )
        self.provider = provider


class KeyStoreUnavailable(KeyStoreError):
    """No usable OS keyring: the message says how to use the environment variable instead."""


@dataclass(frozen=True)
class KeySource:
    provider: str
    source: KeyOrigin
    env_var: str
    value: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.provider} key from {self.detail}"

    @property
    def detail(self) -> str:
        if self.source == "env":
            return f"environment variable {self.env_var}"
        return f"OS keyring (service {SERVICE!r})"


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    source: KeyOrigin | None
    detail: str


@dataclass(frozen=True)
class KeyringStatus:
    available: bool
    backend_name: str
    plaintext: bool
    message: str


def provider_key(provider: str) -> ProviderKey:
    spec = PROVIDERS.get(provider.strip().lower())
    if spec is None:
        raise UnknownProvider(provider)
    return spec


def provider_for_litellm(litellm_provider: str) -> ProviderKey | None:
    """The key spec for one of litellm's provider names ("together_ai" -> together)."""
    for spec in PROVIDERS.values():
        if litellm_provider in spec.litellm_providers:
            return spec
    return None


def _env_hint(spec: ProviderKey) -> str:
    return f"export {spec.env_var}=... (in your shell profile, or the environment of llmbench)"


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_plaintext(backend: object) -> bool:
    """keyrings.alt's file backends keep secrets in a file under the user's data dir, either
    in plain text or behind a password llmbench would have to prompt for: neither is an OS
    keyring. Other packages' plaintext backends say so in their class name."""
    cls = type(backend)
    return cls.__module__.startswith("keyrings.alt") or "plaintext" in cls.__name__.lower()


def _effective_backends(backend: object) -> list[object]:
    from keyring.backends import chainer

    if isinstance(backend, chainer.ChainerBackend):
        # An empty chainer accepts set_password() and silently stores nothing.
        return list(backend.backends)
    return [backend]


_NO_KEYRING = (
    "No OS keyring is available (no Secret Service, KWallet, macOS Keychain or Windows "
    "Credential Locker was found)"
)


def keyring_status() -> KeyringStatus:
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return KeyringStatus(False, "none", False, "The keyring package is not installed")
    backend = keyring.get_keyring()
    name = _backend_name(backend)
    usable = [
        item
        for item in _effective_backends(backend)
        if not isinstance(item, fail.Keyring | null.Keyring)
    ]
    if not usable:
        return KeyringStatus(False, name, False, _NO_KEYRING)
    if any(_is_plaintext(item) for item in usable):
        return KeyringStatus(
            True,
            name,
            True,
            f"Warning: the keyring backend {name} stores secrets in a file, not in an OS "
            "keyring; anyone who can read your files can read the keys. Prefer environment "
            "variables or install an OS keyring backend.",
        )
    return KeyringStatus(True, name, False, f"Keys are stored in the OS keyring ({name}).")


def _require_keyring(spec: ProviderKey) -> KeyringStatus:
    status = keyring_status()
    if not status.available:
        raise KeyStoreUnavailable(
            f"Cannot use the keyring for the {spec.provider} key: {status.message}. "
            f"Use the environment variable instead: {_env_hint(spec)}"
        )
    return status


class _KeyringReads:
    """Keyring answers remembered per backend and provider. A desktop keyring answers over
    D-Bus and may ask the user to unlock it: once per process is enough, not once per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backend: object | None = None
        self._values: dict[str, str | None] = {}

    def read(self, provider: str) -> str | None:
        import keyring
        from keyring.errors import KeyringError

        backend = keyring.get_keyring()
        with self._lock:
            if backend is not self._backend:
                self._backend, self._values = backend, {}
            if provider in self._values:
                return self._values[provider]
        try:
            value = keyring.get_password(SERVICE, provider) or None
        except KeyringError as error:
            log.warning("Reading the %s key from the keyring failed: %s", provider, type(error))
            return None
        with self._lock:
            self._values[provider] = value
        return value

    def forget(self, provider: str) -> None:
        with self._lock:
            self._values.pop(provider, None)


_reads = _KeyringReads()


def _keyring_value(spec: ProviderKey, keyring_available: bool) -> str | None:
    return _reads.read(spec.provider) if keyring_available else None


def _find_key(spec: ProviderKey, keyring_available: bool) -> KeySource | None:
    from_env = os.environ.get(spec.env_var, "").strip()
    if from_env:
        return KeySource(spec.provider, "env", spec.env_var, from_env)
    from_keyring = _keyring_value(spec, keyring_available)
    if from_keyring:
        return KeySource(spec.provider, "keyring", spec.env_var, from_keyring)
    return None


def get_key(provider: str) -> KeySource | None:
    """The key to use for `provider`: its environment variable, else the OS keyring."""
    spec = provider_key(provider)
    from_env = os.environ.get(spec.env_var, "").strip()
    if from_env:  # checked first so the keyring backend is not even loaded
        return KeySource(spec.provider, "env", spec.env_var, from_env)
    return _find_key(spec, keyring_status().available)


def set_key(provider: str, value: str) -> KeyringStatus:
    """Store a key in the OS keyring; the returned status carries a warning to show when the
    backend is a plaintext file."""
    spec = provider_key(provider)
    secret = value.strip()
    if not secret:
        raise ValueError(f"The {spec.provider} key is empty.")
    status = _require_keyring(spec)
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, spec.provider, secret)
    except KeyringError as error:
        # `from None`: a backend's own exception could echo what it was asked to store.
        raise KeyStoreUnavailable(
            f"The keyring refused the {spec.provider} key ({type(error).__name__}). "
            f"Use the environment variable instead: {_env_hint(spec)}"
        ) from None
    finally:
        _reads.forget(spec.provider)
    if status.plaintext:
        log.warning("%s", status.message)
    return status


def delete_key(provider: str) -> bool:
    """Remove a key from the keyring; False when there was none. An environment variable is
    the user's to unset, so it is left alone."""
    spec = provider_key(provider)
    _require_keyring(spec)
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        if keyring.get_password(SERVICE, spec.provider) is None:
            return False
        keyring.delete_password(SERVICE, spec.provider)
    except PasswordDeleteError:
        return False
    except KeyringError as error:
        raise KeyStoreUnavailable(
            f"The keyring could not delete the {spec.provider} key ({type(error).__name__})."
        ) from None
    finally:
        _reads.forget(spec.provider)
    return True


def list_keys() -> list[KeyStatus]:
    """Where each provider's key comes from, without the keys themselves."""
    keyring_ok = keyring_status().available
    statuses = []
    for spec in PROVIDERS.values():
        source = _find_key(spec, keyring_ok)
        if source is not None:
            statuses.append(KeyStatus(spec.provider, source.source, source.detail))
        elif keyring_ok:
            statuses.append(KeyStatus(spec.provider, None, f"not set ({spec.env_var} or keyring)"))
        else:
            statuses.append(KeyStatus(spec.provider, None, f"not set ({spec.env_var})"))
    return statuses
