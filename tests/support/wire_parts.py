"""What the wire-format tests check of an image a request sent: the part recorded beside the
call (`call_parts`, read through the store's own read) with its kind, media type, size, pixels
and SHA-256, and the stored request holding the part's `llmbench-part:` reference where the
caller sent the base64 — whatever shape the provider's wire format gave the image."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from llmbench.store.audit.media_parts import StoredPart, parts_of
from llmbench.store.db import Store


def assert_image_recorded(
    store: Store,
    row: dict[str, Any],
    image: bytes,
    *,
    width: int,
    height: int,
    media_type: str = "image/png",
) -> StoredPart:
    """The call's one part is `image`, and its stored messages name it by reference only."""
    sha = hashlib.sha256(image).hexdigest()
    (stored,) = parts_of(store.read(), int(row["id"]))
    part = stored.part
    assert (part.position, part.kind, part.source, part.media_type) == (
        1,
        "image",
        "data",
        media_type,
    )
    assert (part.byte_size, part.width, part.height, part.sha256) == (
        len(image),
        width,
        height,
        sha,
    )
    assert not stored.kept_bytes  # bytes are kept only with [retention] keep_media_bytes
    messages = row["messages"]
    assert base64.b64encode(image).decode() not in messages
    sent = [
        content
        for message in json.loads(messages)
        for content in (message.get("content") if isinstance(message.get("content"), list) else [])
    ]
    images = [content for content in sent if content.get("type") == "image_url"]
    assert [content["image_url"]["url"] for content in images] == [f"llmbench-part:1:sha256:{sha}"]
    return stored
