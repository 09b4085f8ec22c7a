"""Valid image files written in pure Python, for tests of media parts (no Pillow here).

A PNG as the PNG specification lays it out (W3C PNG 2nd ed.: signature, IHDR, zlib-compressed
IDAT of filtered scanlines, IEND, each chunk with its CRC-32); a GIF89a whose LZW stream
restarts with a Clear code every two pixels, so every code stays 3 bits wide (GIF89a §22,
Appendix F) — uncompressed in effect, but what any decoder reads.
"""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A solid-colour 8-bit RGB PNG."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (None) before each scanline
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height, 9))
        + _chunk(b"IEND", b"")
    )


def gif(width: int, height: int) -> bytes:
    """A two-colour GIF89a, every pixel colour 1."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global table of 2 colours
    palette = b"\x00\x00\x00\xff\x80\x00"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    codes: list[int] = []
    pixels = width * height
    for start in range(0, pixels, 2):
        codes += [4] + [1] * min(2, pixels - start)  # Clear, then at most two pixels
    codes.append(5)  # End of Information
    bits = sum(code << (3 * n) for n, code in enumerate(codes))
    data = bits.to_bytes((3 * len(codes) + 7) // 8, "little")
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in
                      range(0, len(data), 255))  # fmt: skip
    return b"GIF89a" + screen + palette + image + b"\x02" + blocks + b"\x00" + b"\x3b"


def webp_lossy_header(width: int, height: int) -> bytes:
    """The RIFF and `VP8 ` frame header of a lossy WebP (RFC 9649 §2.5, RFC 6386 §9.1): enough
    for a reader of its size, not a decodable picture."""
    frame = b"\x30\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    body = b"VP8 " + struct.pack("<I", len(frame)) + frame
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_lossless_header(width: int, height: int) -> bytes:
    """The RIFF and `VP8L` header of a lossless WebP (RFC 9649 §3.2): signature 0x2f, then
    width-1 and height-1 in 14 bits each."""
    bits = (width - 1) | ((height - 1) << 14)
    frame = b"\x2f" + struct.pack("<I", bits)
    body = b"VP8L" + struct.pack("<I", len(frame)) + frame
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def data_url(media_type: str, data: bytes) -> str:
    import base64

    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
