"""litellm's module-level callback lists, saved and restored around a test.

Setting `litellm.callbacks` is not enough to undo: on the first call litellm copies each
callback into its other lists (the sync and async success and failure lists), and a logger
left there keeps a later test's logger of the same class from being added."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


@contextmanager
def only_these_callbacks(litellm: ModuleType, *callbacks: Any) -> Iterator[None]:
    """`litellm.callbacks` is `callbacks` inside; every callback list as it was afterwards."""
    saved = {name: list(getattr(litellm, name)) for name in CALLBACK_LISTS}
    litellm.callbacks = list(callbacks)
    try:
        yield
    finally:
        for name, previous in saved.items():
            getattr(litellm, name)[:] = previous
