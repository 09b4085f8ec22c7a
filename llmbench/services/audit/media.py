"""The parts a call's request sent, as F6's detail names them in its conversation."""

from __future__ import annotations

from llmbench.core.media import describe
from llmbench.store.audit.media_parts import parts_of
from llmbench.store.db import Store


def part_labels(store: Store, call_id: int) -> dict[int, str]:
    """Each recorded part of the call by its position: `[image 1024×768 png 182 KB]`. Empty
    for a call recorded before parts were (m015) or that sent none."""
    return {
        stored.part.position: describe(stored.part) for stored in parts_of(store.read(), call_id)
    }
