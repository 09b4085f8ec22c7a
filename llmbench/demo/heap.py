"""Giving the memory a slice of calls held back to the system once the slice is done with.

A slice's long texts (messages, responses: most above Python's 512-byte small-object limit) are
allocated by the C library's malloc, a slice's worth at a time, among longer-lived allocations
(SQLite's page cache, the interpreter's own). glibc returns freed memory to the system only from
the top of its heap, so the holes a slice leaves below a live allocation stay resident, and with
each slice some more of the heap is pinned that way: the demo's processes grew with the number
of calls, not the size of a slice (issue #21: by 300,000 calls the writing process's heap held
113 MB free but resident, against 50 after two slices). `malloc_trim(0)` hands back every whole
free page wherever it is, so what stays resident is what is in use. Elsewhere than glibc this
does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    try:  # the symbols the process already has: its C library's among them
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, TypeError, AttributeError):  # no such handle (Windows), or not glibc
        return None


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc only; elsewhere nothing)."""
    trim = _trim()
    if trim is not None:
        trim(0)
