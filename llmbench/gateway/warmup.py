"""What the first call of a process would otherwise wait for, loaded in the background while
the caller prepares its calls (reads a suite, writes its cases): aiohttp, which answers
openai/... models (0.2 s; litellm imports it too, so it is never wasted), the keyring's
backend (0.1 s; a new database's audit-chain key is looked for there) and the default
tokenizer (0.1 s; prompts are counted as they are rendered)."""

from __future__ import annotations

import threading

from llmbench.core.tokens import count_tokens
from llmbench.gateway.keys import keyring_status


def _load() -> None:
    # In the order the caller will need them: the keyring when the run opens its audit
    # recorder, the tokenizer as the first prompt renders, aiohttp for the first call.
    keyring_status()
    count_tokens("warm up", "openai/any-model")
    import aiohttp  # noqa: F401


def warm_up() -> threading.Thread:
    thread = threading.Thread(target=_load, name="llmbench-warm-up", daemon=True)
    thread.start()
    return thread
