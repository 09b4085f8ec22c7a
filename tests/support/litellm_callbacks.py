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
def callback_lists_restored(litellm: ModuleType) -> Iterator[ModuleType]:
    """Every callback list as it was once the block ends, whatever the block registered."""
    saved = {name: list(getattr(litellm, name)) for name in CALLBACK_LISTS}
    try:
        yield litellm
    finally:
        for name, previous in saved.items():
            getattr(litellm, name)[:] = previous


@contextmanager
def only_these_callbacks(litellm: ModuleType, *callbacks: Any) -> Iterator[None]:
    """`litellm.callbacks` is `callbacks` inside; every callback list as it was afterwards."""
    with callback_lists_restored(litellm):
        litellm.callbacks = list(callbacks)
        yield
