"""The store's one timestamp format, shared by every table that records when something happened."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """The store's timestamp format: ISO-8601 UTC with milliseconds, sortable as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
