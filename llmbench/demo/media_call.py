"""An image call in the demo's traffic (m015): the newest answered call that mentions a refund
came with a screenshot from the customer (a receipt-like page, a PNG drawn here in code). Its
request keeps the part's reference in place of the bytes, as the gateway's recorder stores it;
its prompt tokens and cost count the image by its model's provider's rule (core.media); its
part row is written once it has an id.

It is the call the F6 detail screenshot opens (the newest that mentions a refund), so the
screenshot shows the part as `[image 1024×768 png … KB]` in the conversation."""

from __future__ import annotations

import base64
import json
import random
import struct
import zlib
from collections.abc import Sequence
from typing import Any

from llmbench.core.costs.pricing import PriceTable
from llmbench.core.media import MediaPart, image_tokens, strip_parts
from llmbench.core.models import Usage
from llmbench.demo import texts
from llmbench.store.audit.media_parts import insert_request_parts

Row = dict[str, Any]

WIDTH, HEIGHT = 1024, 768
# Where a row carries its parts to the build (not a column: append_calls ignores it).
PARTS = "media_parts"
_INK, _PAPER, _MARGIN = 70, 250, 96
_TOP, _PITCH, _LINE = 80, 30, 14  # where lines start, how far apart, how tall


def receipt_png(rng: random.Random, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A greyscale PNG of a receipt: paper with lines of 'text' (dark runs) of random lengths.
    Written as the PNG specification lays it out (signature, IHDR, zlib'd IDAT, IEND)."""
    paper = bytes([_PAPER]) * width
    lengths: dict[int, int] = {}  # each line's top → its length
    rows: list[bytes] = []
    for y in range(height):
        top = _TOP + (y - _TOP) // _PITCH * _PITCH
        if _TOP <= y < height - _TOP and y - top < _LINE:
            length = lengths.setdefault(top, rng.randrange(width // 5, width - 2 * _MARGIN))
            row = paper[:_MARGIN] + bytes([_INK]) * length + paper[_MARGIN + length :]
        else:
            row = paper
        rows.append(b"\x00" + row)  # filter type 0 (None) before each scanline

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"".join(rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _eligible(row: Row) -> bool:
    return (
        row.get("status") == "ok"
        and row.get("attempt") == 1
        and row.get("run") is None
        and row.get("conversation_id") is None
        and "refund" in f"{row.get('messages') or ''} {row.get('response') or ''}".lower()
    )


def add_image_call(rng: random.Random, calls: Sequence[Row], prices: PriceTable) -> Row | None:
    """Attach the receipt to the newest answered call mentioning a refund; that row, or None
    when there is none."""
    row = next((row for row in reversed(calls) if _eligible(row)), None)
    if row is None:
        return None
    messages = json.loads(row["messages"])
    users = [n for n, message in enumerate(messages) if message.get("role") == "user"]
    if not users or not isinstance(messages[users[-1]].get("content"), str):
        return None
    image = receipt_png(rng)
    url = f"data:image/png;base64,{base64.b64encode(image).decode()}"
    last = messages[users[-1]]
    last["content"] = [
        {"type": "text", "text": last["content"] + "\nA screenshot is attached."},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    stored, parts = strip_parts(messages)
    tokens = image_tokens(str(row["model"]), WIDTH, HEIGHT, None)
    usage = Usage(
        prompt_tokens=int(row.get("prompt_tokens") or 0) + tokens,
        completion_tokens=int(row.get("completion_tokens") or 0),
        cached_tokens=int(row.get("cached_tokens") or 0),
    )
    row.update(
        messages=json.dumps(stored, ensure_ascii=False),
        prompt_tokens=usage.prompt_tokens,
        cost=texts.call_cost(usage, prices.price(str(row["model"]), str(row["ts"]))),
    )
    row[PARTS] = (parts, tokens)
    return row


def write_parts(db: Any, calls: Sequence[Row]) -> int:
    """Write the part rows of the calls that carry some, now that they have ids; how many."""
    written = 0
    for row in calls:
        found: tuple[tuple[MediaPart, ...], int] | None = row.get(PARTS)
        if not found:
            continue
        parts, tokens = found
        estimates = [tokens if part.kind == "image" else None for part in parts]
        insert_request_parts(db, row["request_id"], int(row["attempt"]), parts, estimates)
        written += len(parts)
    return written
