"""Image variables of vision prompts: a variable of kind `image` takes a path or a URL, and
becomes an image part of the user message (OpenAI's `image_url`, which litellm passes to every
provider in its own shape) where the template names it, or after the text when it does not.

A path is read and sent as a data: URL with the media type its bytes say (PNG, JPEG, GIF or
WebP); an http(s) or data: URL is sent as it is.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llmbench.core.media_headers import image_size

# Where a section names an image variable: private-use characters, which no template text or
# fenced value is expected to hold, around the name.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}image:([^{_CLOSE}]*){_CLOSE}")
_URL_SCHEMES = ("http://", "https://", "data:")


class ImageValueError(ValueError):
    """An image variable's value is neither a URL nor a readable image file."""


def placeholder(name: str) -> str:
    """What `{{ name }}` renders to in a section's text for an image variable."""
    return f"{_OPEN}image:{name}{_CLOSE}"


def image_url(value: object, name: str) -> str:
    """The URL an image variable's value is sent as: a URL as it is, a file as a data: URL."""
    text = str(value).strip()
    if text.startswith(_URL_SCHEMES):
        return text
    try:
        data = Path(text).expanduser().read_bytes()
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = getattr(error, "strerror", None) or error
        raise ImageValueError(f"image variable {name}: cannot read {text!r}: {reason}") from None
    size = image_size(data)
    if size is None:
        raise ImageValueError(f"image variable {name}: {text!r} is not a PNG, JPEG, GIF or WebP")
    return f"data:image/{size.format};base64,{base64.b64encode(data).decode()}"


def image_part(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def _text_parts(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [dict(part) for part in content] if isinstance(content, list) else []


def _split(part: dict[str, Any], urls: Mapping[str, str], placed: set[str]) -> list[dict[str, Any]]:
    """A text part with placeholders as text and image parts in their order (a text part's
    other keys, such as a cache mark, stay on its last piece)."""
    text = part.get("text")
    if part.get("type") != "text" or not isinstance(text, str) or _OPEN not in text:
        return [part]
    pieces: list[dict[str, Any]] = []
    at = 0
    for found in _PLACEHOLDER.finditer(text):
        before = text[at : found.start()].strip()
        if before:
            pieces.append({"type": "text", "text": before})
        name = found.group(1)
        if name in urls:
            pieces.append(image_part(urls[name]))
            placed.add(name)
        at = found.end()
    rest = text[at:].strip()
    if rest or not pieces:
        pieces.append({**part, "text": rest})
    elif pieces[-1].get("type") == "text":
        pieces[-1] = {**part, "text": pieces[-1]["text"]}
    return pieces


def with_images(
    messages: Sequence[Mapping[str, Any]], urls: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The rendered messages with each image variable as an image part: where its placeholder
    stands, else at the end of the last user message (one is added when there is none)."""
    placed: set[str] = set()
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        has_placeholder = _OPEN in (
            content if isinstance(content, str) else repr(content) if content else ""
        )
        if not has_placeholder:
            out.append(dict(message))
            continue
        parts = [piece for part in _text_parts(content) for piece in _split(part, urls, placed)]
        out.append({**message, "content": parts})
    rest = [image_part(url) for name, url in urls.items() if name not in placed]
    if rest:
        users = [n for n, message in enumerate(out) if message.get("role") == "user"]
        if users:
            last = out[users[-1]]
            out[users[-1]] = {**last, "content": _text_parts(last.get("content")) + rest}
        else:
            out.append({"role": "user", "content": rest})
    return out
