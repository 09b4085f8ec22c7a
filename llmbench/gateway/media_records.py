"""The parts a request sent (images, audio, files), taken out of its audit record: the stored
messages keep a reference in place of the bytes (core.media), the parts ride beside the record
to the writer job, which writes them (store.audit.media_parts) once the call has its id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from llmbench.core.audit.redact import Redactor
from llmbench.core.media import MediaPart, image_tokens, might_hold_parts, strip_stored_text
from llmbench.store.audit.media_parts import insert_parts

# Where a record carries the parts its request sent, to the writer job (not a column: the store
# ignores keys it has no column for).
PARTS = "_media_parts"


@lru_cache(maxsize=8)
def _stored_request(messages: str, keep_bytes: bool) -> tuple[str, tuple[MediaPart, ...]]:
    """The messages as stored, each part's bytes replaced by its reference, and the parts. The
    attempts of one request share one messages text: it is searched and parsed once."""
    return strip_stored_text(messages, keep_bytes)


def with_parts(call: dict[str, Any], keep_bytes: bool) -> dict[str, Any]:
    """The record with its request's parts taken out of its messages (before redaction runs
    over them: megabytes of base64 are neither scanned nor kept) and put beside it."""
    messages = call.get("messages")
    if not isinstance(messages, str) or not might_hold_parts(messages):
        return call
    stored, parts = _stored_request(messages, keep_bytes)
    if parts:
        call["messages"] = stored
        call[PARTS] = parts
    return call


def _redacted(part: MediaPart, redactor: Redactor) -> MediaPart:
    """A part's texts as the request gave them (a file's name, the media type it declared)
    are masked like the rest of the row: a key pasted there must not be kept either."""
    texts = {"name": part.name, "media_type": part.media_type, "detail": part.detail}
    masked = {k: redactor.text(v) for k, v in texts.items() if v and redactor.text(v) != v}
    return replace(part, **masked) if masked else part


def write_parts(db: Any, rows: Sequence[Mapping[str, Any]], ids: Sequence[Any]) -> None:
    """Record the parts of each appended call, in the job that appended it."""
    for row, call_id in zip(rows, ids, strict=True):
        parts: tuple[MediaPart, ...] = row.get(PARTS, ())
        if parts and isinstance(call_id, int):
            model = str(row.get("model") or row.get("model_requested") or "")
            tokens = [
                image_tokens(model, part.width, part.height, part.detail)
                if part.kind == "image"
                else None
                for part in parts
            ]
            insert_parts(db, call_id, parts, tokens)


def redacted_parts(record: dict[str, Any], redactor: Redactor) -> None:
    """Mask the texts of the record's parts, as the recorder masks the row's."""
    if PARTS in record:
        record[PARTS] = tuple(_redacted(part, redactor) for part in record[PARTS])
