"""What a file's first bytes say: its media type, and an image's pixel size, read from the
PNG, JPEG, GIF or WebP header in pure Python (no Pillow: the audit log only needs the size, and
the core stays on the standard library).

Layouts, from each format's specification: PNG (W3C PNG, 2nd ed., §5.2–5.3: the signature,
then IHDR with width and height as big-endian uint32), GIF (GIF89a §18: logical screen width
and height, little-endian uint16), JPEG (ITU T.81 §B.2: segments up to a start-of-frame marker
SOFn, whose frame header holds height then width), WebP (RFC 9649 §2.5–2.7: the simple lossy
`VP8 ` and lossless `VP8L` bitstreams, and the extended `VP8X` canvas).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers: every SOFn but DHT (C4), JPG (C8) and DAC (CC), which share the range.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM, RST0–7, SOI, EOI.
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xDA)})


@dataclass(frozen=True)
class ImageSize:
    format: str
    """png, jpeg, gif or webp"""
    width: int
    height: int


def image_size(data: bytes) -> ImageSize | None:
    """The format and pixel size of an image, or None when the bytes are not a PNG, JPEG, GIF
    or WebP header that can be read."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _png(data: bytes) -> ImageSize | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageSize("png", width, height) if width and height else None


def _gif(data: bytes) -> ImageSize | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return ImageSize("gif", width, height) if width and height else None


def _jpeg(data: bytes) -> ImageSize | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None  # not at a marker: a damaged file
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _JPEG_BARE:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if marker in _JPEG_FRAMES:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return ImageSize("jpeg", width, height) if width and height else None
        if marker == 0xDA or length < 2:  # start of scan before any frame: not an image we read
            return None
        at += 2 + length
    return None


def _webp(data: bytes) -> ImageSize | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        width, height = width & 0x3FFF, height & 0x3FFF  # the top two bits are the scale
    elif chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        return None
    return ImageSize("webp", width, height) if width and height else None


# Magic numbers of the other media a request carries, from each format's specification.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, PNG_SIGNATURE, "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
)
_RIFF_KINDS = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes' magic number names, or None."""
    for offset, magic, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return media_type
    if data[:4] == b"RIFF":
        return _RIFF_KINDS.get(data[8:12])
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio/mpeg"
    return None
