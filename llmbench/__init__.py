"""llmbench: a keyboard-driven terminal workbench for the whole life of LLM prompts."""

from __future__ import annotations

from llmbench._offline import configure_offline_environment

__version__ = "0.1.0"

# Before anything can import litellm or tiktoken: no price-map downloads, no tokenizer downloads.
configure_offline_environment()


def __getattr__(name: str) -> object:
    # The SDK pulls in the gateway; load it only when an application asks for it.
    if name == "Bench":
        from llmbench.services.sdk import Bench

        return Bench
    raise AttributeError(f"module 'llmbench' has no attribute {name!r}")
