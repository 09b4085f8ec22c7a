"""Finding text hidden in encodings, for the input guard to scan again.

An attacker who writes "ignore all previous instructions" in base64, hex, base32, binary,
URL-encoding, escape sequences, Ascii85/base85, Morse code or invisible Unicode tag characters
gets past any phrase rule, while
the model reads the payload fluently. Each decoder here finds candidate runs cheaply (a run of
16+ non-space characters, or a gated pattern for spaced forms), decodes them, and keeps only
results that read as text: valid UTF-8, mostly printable, with words in it. Binary blobs,
hashes and images decode to noise and are dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

MAX_CANDIDATES = 24  # decoding is bounded whatever the input holds

_STRIP = "\"'`()[]{}<>,;:.!?"
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
_BASE32 = re.compile(r"[A-Z2-7]{16,}={0,6}")
_HEX = re.compile(r"(?:0x)?((?:[0-9a-fA-F]{2}){8,})")
_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|&#x?[0-9a-fA-F]+;){4,}")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|&#(x?)([0-9a-fA-F]+);")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ASCII85 = re.compile(r"<~.{8,}?~>", re.DOTALL)
_BASE85_ALPHABET = frozenset(string.digits + string.ascii_letters + "!#$%&()*+-;<=>?@^_`{|}~")
_BINARY = re.compile(r"(?<![01])(?:[01]{8}[\s,]{0,3}){4,}")
_MORSE = re.compile(r"(?<![\w.\-])(?:[.\-]{1,7}(?: / | {1,3}|/)){6,}[.\-]{1,7}(?![\w.\-])")
_MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0",
    ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",", "..--..": "?",
    ".----.": "'", "-.-.--": "!", "-..-.": "/", ".--.-.": "@", "-...-": "=", "..--.-": "_",
}  # fmt: skip
_WORDS = re.compile(r"[^\W\d_]{2,}")
# Unicode "tag" characters mirror ASCII at U+E0000 and render as nothing ("ASCII smuggling").
_TAGS = re.compile("[\U000e0020-\U000e007e]{4,}")


@dataclass(frozen=True)
class Decoded:
    codec: str
    start: int
    end: int
    text: str


def decode_all(text: str) -> list[Decoded]:
    """Every encoded run in text that decodes to readable text, at most MAX_CANDIDATES tried."""
    found: list[Decoded] = []
    for tried, (codec, start, end, payload) in enumerate(_candidates(text)):
        if tried >= MAX_CANDIDATES:
            break
        decoded = _decode(codec, payload)
        if decoded is not None and _reads_as_text(decoded):
            found.append(Decoded(codec, start, end, decoded))
    return found


def _candidates(text: str) -> Iterator[tuple[str, int, int, str]]:
    for start, token in _long_tokens(text):
        stripped = token.strip(_STRIP)
        offset = start + token.find(stripped) if stripped else start
        yield from _token_candidates(stripped, offset)
    if text.count("0") + text.count("1") >= 32:
        for match in _BINARY.finditer(text):
            yield "binary", match.start(), match.end(), match.group()
    if text.count(".") + text.count("-") >= 24:
        for match in _MORSE.finditer(text):
            yield "morse", match.start(), match.end(), match.group()
    if "<~" in text:
        for match in _ASCII85.finditer(text):
            yield "ascii85", match.start(), match.end(), match.group()
    if not text.isascii():
        for match in _TAGS.finditer(text):
            yield "unicode_tags", match.start(), match.end(), match.group()


def _long_tokens(text: str) -> Iterator[tuple[int, str]]:
    """Runs of 16+ non-space characters with their positions (str.split is several times
    faster than a regular expression over ordinary prose)."""
    cursor = 0
    for token in text.split():
        if len(token) >= 16:
            start = text.find(token, cursor)
            yield start, token
            cursor = start + len(token)


def _token_candidates(token: str, offset: int) -> Iterator[tuple[str, int, int, str]]:
    if len(_URL_ESCAPE.findall(token)) >= 3:
        yield "url", offset, offset + len(token), token
        return
    escapes = _ESCAPES.search(token)
    if escapes:
        yield "escapes", offset + escapes.start(), offset + escapes.end(), escapes.group()
        return
    hex_match = _HEX.fullmatch(token)
    if hex_match:
        yield "hex", offset, offset + len(token), hex_match.group(1)
        return
    if _BASE32.fullmatch(token) and any(c.isdigit() for c in token):
        yield "base32", offset, offset + len(token), token
    base64_match = _BASE64.search(token)
    if base64_match and len(base64_match.group()) >= 16 and _looks_encoded(base64_match.group()):
        start = offset + base64_match.start()
        yield "base64", start, start + len(base64_match.group()), base64_match.group()
    elif len(token) >= 20 and set(token) <= _BASE85_ALPHABET and _looks_encoded(token):
        yield "base85", offset, offset + len(token), token


def _looks_encoded(token: str) -> bool:
    """Not a long word or identifier: encoders mix digits or case in every few characters."""
    digits = sum(c.isdigit() for c in token)
    upper = sum(c.isupper() for c in token)
    lower = sum(c.islower() for c in token)
    return digits >= 2 or (upper >= 3 and lower >= 3 and "_" not in token)


def _decode(codec: str, payload: str) -> str | None:
    try:
        raw = _DECODERS[codec](payload)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _b64(payload: str) -> bytes:
    payload = payload.rstrip("=")
    padded = payload + "=" * (-len(payload) % 4)
    if "-" in payload or "_" in payload:
        return base64.urlsafe_b64decode(padded)
    return base64.b64decode(padded, validate=True)


def _b32(payload: str) -> bytes:
    payload = payload.rstrip("=")
    return base64.b32decode(payload + "=" * (-len(payload) % 8))


def _escapes(payload: str) -> str:
    def one(match: re.Match[str]) -> str:
        unicode_hex, byte_hex, entity_x, entity = match.groups()
        if unicode_hex:
            return chr(int(unicode_hex, 16))
        if byte_hex:
            return chr(int(byte_hex, 16))
        return chr(int(entity, 16 if entity_x else 10))

    return _ESCAPE.sub(one, payload)


def _binary(payload: str) -> bytes:
    bits = re.sub(r"[^01]", "", payload)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))


def _morse(payload: str) -> str:
    words = re.split(r"\s*/\s*|\s{2,}", payload.strip())
    return " ".join("".join(_MORSE_CODE.get(code, "?") for code in word.split()) for word in words)


def _url(payload: str) -> str:
    return unquote(payload, errors="strict")


_DECODERS = {
    "base64": _b64,
    "base32": _b32,
    "hex": bytes.fromhex,
    "escapes": _escapes,
    "url": _url,
    "binary": _binary,
    "morse": _morse,
    "ascii85": lambda payload: base64.a85decode(payload, adobe=True),
    "base85": base64.b85decode,
    "unicode_tags": lambda payload: "".join(chr(ord(char) - 0xE0000) for char in payload),
}


def _reads_as_text(decoded: str) -> bool:
    if len(decoded) < 6:
        return False
    printable = sum(c.isprintable() or c in "\n\t\r" for c in decoded)
    if printable < 0.9 * len(decoded):
        return False
    letters = sum(len(word) for word in _WORDS.findall(decoded))
    return letters >= 0.5 * len(decoded.replace(" ", "")) and " " in decoded.strip()
