"""Image, audio and file parts of a request's messages, as the audit log records them.

A part is found in each content-part shape a client sends: OpenAI's `image_url` (a data: URL
or an http URL), `input_audio` and `file`, the Responses API's `input_image` and `input_file`,
and Anthropic's `image` and `document` blocks with a `base64`, `url`, `text` or `file` source
(as litellm passes them through). Its bytes are hashed and measured, an image's pixel size read
from its header; what is stored keeps a short reference in place of the bytes
(`llmbench-part:<n>:sha256:<hex>`), so a request never keeps megabytes of base64 and the
reference, sealed with the call, names the bytes that were sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from llmbench.core.media_headers import image_size, sniff_media_type

PartKind = Literal["image", "audio", "file"]
PartSource = Literal["data", "url", "file_id"]
PART_KINDS: tuple[PartKind, ...] = ("image", "audio", "file")
PART_SOURCES: tuple[PartSource, ...] = ("data", "url", "file_id")
REFERENCE_PREFIX = "llmbench-part:"
_REFERENCE = re.compile(r"llmbench-part:(\d+):sha256:([0-9a-f]{64})")
# A quick look at the stored JSON text before parsing it: only a request with one of these
# keys can hold a part (most calls have none, and parsing costs more than a search).
_MAYBE_PARTS = re.compile(r'"(?:image_url|input_audio|file_data|file_id|source|input_image)"')
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[^,;]*)*?)(;base64)?,", re.ASCII)
# input_audio's `format` as a media type (OpenAI accepts wav and mp3).
_AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac"}


@dataclass(frozen=True)
class MediaPart:
    position: int
    """1-based order of the part across the request's messages."""
    message_index: int
    kind: PartKind
    media_type: str | None
    byte_size: int | None
    """The bytes sent; None when only a URL or a file id was."""
    sha256: str
    """Of the bytes, or of the URL or file id when only that was sent."""
    source: PartSource
    width: int | None = None
    height: int | None = None
    detail: str | None = None
    """OpenAI's image `detail` (low, high, auto) when the request set it."""
    name: str | None = None
    """A file's name, when the request gave one."""
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.position}:sha256:{self.sha256}"


def decode_data_url(url: str) -> tuple[str | None, bytes] | None:
    """A data: URL's media type and bytes (RFC 2397), or None when it is not one."""
    found = _DATA_URL.match(url)
    if found is None:
        return None
    payload = url[found.end() :]
    if found.group(3):
        data = _b64(payload)
        if data is None:
            return None
    else:
        from urllib.parse import unquote_to_bytes

        data = unquote_to_bytes(payload)
    return found.group(1), data


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=False)
    except (binascii.Error, ValueError):
        return None


@dataclass
class _Finder:
    """Walks one request, numbering parts in order and replacing sent bytes by references."""

    keep_bytes: bool
    parts: list[MediaPart] = field(default_factory=list)

    def bytes_part(
        self, index: int, kind: PartKind, declared: str | None, data: bytes, **extra: Any
    ) -> MediaPart:
        size = image_size(data) if kind == "image" else None
        media_type = declared or sniff_media_type(data)
        if size is not None and not declared:
            media_type = f"image/{size.format}"
        part = MediaPart(
            position=len(self.parts) + 1,
            message_index=index,
            kind=kind,
            media_type=media_type,
            byte_size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            source="data",
            width=size.width if size else None,
            height=size.height if size else None,
            data=data if self.keep_bytes else None,
            **extra,
        )
        self.parts.append(part)
        return part

    def pointer_part(
        self, index: int, kind: PartKind, source: PartSource, value: str, **extra: Any
    ) -> MediaPart:
        part = MediaPart(
            position=len(self.parts) + 1,
            message_index=index,
            kind=kind,
            media_type=extra.pop("media_type", None),
            byte_size=None,
            sha256=hashlib.sha256(value.encode()).hexdigest(),
            source=source,
            **extra,
        )
        self.parts.append(part)
        return part

    def referenced(self, index: int, kind: PartKind, value: str, **extra: Any) -> bool:
        """Whether `value` is a reference already (a stored row read back, resent or
        imported): counted as the part it names, its bytes unknown here."""
        found = _REFERENCE.fullmatch(value)
        if found is None:
            return False
        part = MediaPart(len(self.parts) + 1, index, kind, None, None, found.group(2), "data")
        self.parts.append(replace(part, **extra))
        return True

    def url(self, index: int, kind: PartKind, url: str, **extra: Any) -> str:
        """A part sent as a URL: the data: URL's bytes become a reference, an http URL stays."""
        if self.referenced(index, kind, url, **extra):
            return url
        decoded = decode_data_url(url) if url.startswith("data:") else None
        if decoded is not None:
            return self.bytes_part(index, kind, decoded[0], decoded[1], **extra).reference
        self.pointer_part(index, kind, "url", url, **extra)
        return url

    def part(self, index: int, part: Mapping[str, Any]) -> Mapping[str, Any]:
        """The part as stored (a copy where bytes were replaced), recording what it carries."""
        kind = part.get("type")
        if kind == "image_url":
            image = part.get("image_url")
            if isinstance(image, str):
                return {**part, "image_url": self.url(index, "image", image)}
            if isinstance(image, Mapping) and isinstance(image.get("url"), str):
                detail = image.get("detail") if isinstance(image.get("detail"), str) else None
                url = self.url(index, "image", image["url"], detail=detail)
                return {**part, "image_url": {**image, "url": url}}
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            detail = part.get("detail") if isinstance(part.get("detail"), str) else None
            return {**part, "image_url": self.url(index, "image", part["image_url"], detail=detail)}
        elif kind == "input_audio" and isinstance(part.get("input_audio"), Mapping):
            return {**part, "input_audio": self._audio(index, part["input_audio"])}
        elif kind in ("file", "input_file"):
            inner = part.get("file") if kind == "file" else part
            if isinstance(inner, Mapping):
                stored = self._file(index, inner)
                return {**part, "file": stored} if kind == "file" else stored
        elif kind in ("image", "document") and isinstance(part.get("source"), Mapping):
            kind_of: PartKind = "image" if kind == "image" else "file"
            return {**part, "source": self._source(index, kind_of, part["source"])}
        return part

    def _audio(self, index: int, audio: Mapping[str, Any]) -> Mapping[str, Any]:
        value = audio.get("data")
        if not isinstance(value, str) or self.referenced(index, "audio", value):
            return audio
        data = _b64(value)
        if data is None:
            return audio
        declared = _AUDIO_FORMATS.get(str(audio.get("format", "")).lower())
        return {**audio, "data": self.bytes_part(index, "audio", declared, data).reference}

    def _file(self, index: int, file: Mapping[str, Any]) -> Mapping[str, Any]:
        name = file.get("filename") if isinstance(file.get("filename"), str) else None
        if isinstance(file.get("file_data"), str):
            return {**file, "file_data": self.url(index, "file", file["file_data"], name=name)}
        if isinstance(file.get("file_id"), str):
            self.pointer_part(index, "file", "file_id", file["file_id"], name=name)
        elif isinstance(file.get("file_url"), str):
            self.pointer_part(index, "file", "url", file["file_url"], name=name)
        return file

    def _source(self, index: int, kind: PartKind, source: Mapping[str, Any]) -> Mapping[str, Any]:
        declared = source.get("media_type") if isinstance(source.get("media_type"), str) else None
        shape, value = source.get("type"), source.get("data")
        textual = shape in ("base64", "text") and isinstance(value, str)
        if textual and self.referenced(index, kind, str(value), media_type=declared):
            return source
        if shape == "base64" and isinstance(value, str):
            data = _b64(value)
            if data is not None:
                return {**source, "data": self.bytes_part(index, kind, declared, data).reference}
        elif shape == "text" and isinstance(value, str):  # a plain-text document, sent as text
            data = value.encode()
            return {**source, "data": self.bytes_part(index, kind, declared, data).reference}
        elif shape == "url" and isinstance(source.get("url"), str):
            self.pointer_part(index, kind, "url", source["url"], media_type=declared)
        elif shape == "file" and isinstance(source.get("file_id"), str):
            self.pointer_part(index, kind, "file_id", source["file_id"], media_type=declared)
        return source


def strip_parts(
    messages: Sequence[Any], keep_bytes: bool = False
) -> tuple[list[Any], tuple[MediaPart, ...]]:
    """The messages as stored, each sent part's bytes replaced by its reference, and the parts
    in order (their bytes kept only with `keep_bytes`). Messages without parts come back as
    they were (the same objects)."""
    finder = _Finder(keep_bytes)
    stored: list[Any] = []
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            stored.append(message)
            continue
        parts = [finder.part(index, p) if isinstance(p, Mapping) else p for p in content]
        changed = any(new is not old for new, old in zip(parts, content, strict=True))
        stored.append({**message, "content": parts} if changed else message)
    return stored, tuple(finder.parts)


def might_hold_parts(messages_text: str) -> bool:
    """Whether stored messages text may hold a part: a search, no parsing (most calls have
    none, and the recorder asks for every one)."""
    return _MAYBE_PARTS.search(messages_text) is not None


def strip_stored_text(
    messages_text: str, keep_bytes: bool = False
) -> tuple[str, tuple[MediaPart, ...]]:
    """`strip_parts` over the messages as stored JSON text; the same text when it has none."""
    if not might_hold_parts(messages_text):
        return messages_text, ()
    try:
        messages = json.loads(messages_text)
    except ValueError:
        return messages_text, ()
    if not isinstance(messages, list):
        return messages_text, ()
    stored, parts = strip_parts(messages, keep_bytes)
    if not parts:
        return messages_text, ()
    return json.dumps(stored, ensure_ascii=False), parts


def part_positions(messages: Sequence[Any]) -> dict[tuple[int, int], MediaPart]:
    """Every media part of (stored) messages by (message index, content index), as
    `strip_parts` numbered them: what a view shows in place of each."""
    finder = _Finder(keep_bytes=False)
    found: dict[tuple[int, int], MediaPart] = {}
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, Mapping) else None
        for at, part in enumerate(content if isinstance(content, list) else ()):
            before = len(finder.parts)
            if isinstance(part, Mapping):
                finder.part(index, part)
            if len(finder.parts) > before:
                found[index, at] = finder.parts[-1]
    return found


def referenced_sha256(text: str) -> dict[int, str]:
    """The part references a stored text holds: position → sha256."""
    return {int(n): sha for n, sha in _REFERENCE.findall(text)}


def human_size(byte_size: int) -> str:
    if byte_size < 1000:
        return f"{byte_size} B"
    if byte_size < 1000 * 1000:
        return f"{round(byte_size / 1000)} KB"
    return f"{byte_size / 1_000_000:.1f} MB"


def describe(part: MediaPart) -> str:
    """`[image 1024×768 png 182 KB]`, `[audio wav 96 KB]`, `[file report.pdf pdf 1.2 MB]`,
    `[image url]`: the part as F6 shows it."""
    words: list[str] = [part.kind]
    if part.name:
        words.append(part.name)
    if part.width and part.height:
        words.append(f"{part.width}×{part.height}")
    if part.media_type:
        words.append(part.media_type.split("/", 1)[-1])
    if part.byte_size is not None:
        words.append(human_size(part.byte_size))
    elif part.source == "url":
        words.append("url")
    elif part.source == "file_id":
        words.append("file id")
    return "[" + " ".join(words) + "]"


# -- input tokens of an image -------------------------------------------------------------------
# OpenAI, gpt-4o-class models (platform.openai.com/docs/guides/images-vision, "Calculating
# costs"): detail low is 85 tokens; otherwise the image is fitted within 2048×2048, then scaled
# so its shortest side is 768 px, and each 512-px tile costs 170 tokens plus 85 for the whole.
OPENAI_BASE_TOKENS = 85
OPENAI_TILE_TOKENS = 170
# Anthropic (docs.anthropic.com, "Vision": calculate image costs): tokens = width × height / 750,
# after an image whose long edge exceeds 1568 px is scaled down to it.
ANTHROPIC_LONG_EDGE = 1568
ANTHROPIC_PIXELS_PER_TOKEN = 750
# Gemini (ai.google.dev, "Image understanding"): 258 tokens when both sides are at most 384 px,
# else 258 per 768×768 tile.
GEMINI_TILE_TOKENS = 258
# An image sent only by URL has no size we know: priced as a 1024×1024 one.
UNKNOWN_SIDE = 1024


def openai_image_tokens(width: int, height: int, detail: str | None = None) -> int:
    if detail == "low":
        return OPENAI_BASE_TOKENS
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    tiles = math.ceil(width / 512) * math.ceil(height / 512)
    return OPENAI_TILE_TOKENS * tiles + OPENAI_BASE_TOKENS


def anthropic_image_tokens(width: int, height: int) -> int:
    scale = min(1.0, ANTHROPIC_LONG_EDGE / max(width, height))
    return math.ceil(width * scale * height * scale / ANTHROPIC_PIXELS_PER_TOKEN)


def gemini_image_tokens(width: int, height: int) -> int:
    if width <= 384 and height <= 384:
        return GEMINI_TILE_TOKENS
    return GEMINI_TILE_TOKENS * math.ceil(width / 768) * math.ceil(height / 768)


def image_tokens(model: str, width: int | None, height: int | None, detail: str | None) -> int:
    """Input tokens of one image for `model`, by its provider's published rule (OpenAI's tile
    rule for any model not known to be Anthropic's or Google's)."""
    width, height = width or UNKNOWN_SIDE, height or UNKNOWN_SIDE
    name = model.lower()
    if "claude" in name or name.startswith(("anthropic/", "bedrock/anthropic")):
        return anthropic_image_tokens(width, height)
    if "gemini" in name:
        return gemini_image_tokens(width, height)
    return openai_image_tokens(width, height, detail)


def content_media_tokens(content: Sequence[Any], model: str) -> int:
    """Estimated input tokens of the images in one message's content list (audio and files
    are left to the provider's usage: their length in tokens is not in their header)."""
    _stored, parts = strip_parts([{"content": list(content)}])
    return sum(
        image_tokens(model, part.width, part.height, part.detail)
        for part in parts
        if part.kind == "image"
    )
