"""The audit browser's use cases, shared by the F6 pane and `llmbench logs export`: filtered
pages of calls, one call in full, promoting a call to a test case, and streaming exports."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from llmbench.core.audit.query import AuditQuery, parse
from llmbench.services.export_files import open_export
from llmbench.store.audit import browser as audit_browser
from llmbench.store.audit.browser import CallDetail, CallKey, Direction, Filter, Page
from llmbench.store.db import Store

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")
PROMOTED = "promoted-from-call"


def compile_query(store: Store, query: AuditQuery | str, now: datetime | None = None) -> Filter:
    """A query (or the bar's text, which may raise QueryError) bound to the database."""
    parsed = parse(query) if isinstance(query, str) else query
    return audit_browser.compile_filter(store.connection(), parsed, now or datetime.now(UTC))


def read_page(
    store: Store,
    flt: Filter,
    *,
    after: CallKey | None = None,
    direction: Direction = "older",
    limit: int = 100,
) -> Page:
    return audit_browser.page(
        store.connection(), flt, after=after, direction=direction, limit=limit
    )


def read_seek(store: Store, flt: Filter, moment: str, limit: int = 100) -> Page:
    return audit_browser.seek(store.connection(), flt, moment, limit)


def has_calls(store: Store) -> bool:
    return audit_browser.has_calls(store.connection())


def read_count(store: Store, flt: Filter) -> tuple[int, bool]:
    return audit_browser.count(store.connection(), flt)


def read_detail(store: Store, call_id: int) -> CallDetail | None:
    return audit_browser.call_detail(store.connection(), call_id)


def dataset_names(store: Store) -> list[str]:
    return audit_browser.dataset_names(store.connection())


# -- promotion -------------------------------------------------------------------------------


def last_user_message(detail: CallDetail) -> str:
    for message in reversed(detail.messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def case_vars(detail: CallDetail) -> dict[str, str]:
    """The new case's variables. A call keeps the rendered messages, not the values that
    filled the template, so the last user message becomes the value of the version's one
    untrusted variable (the user's input) when it has exactly one, else of `input`."""
    untrusted = [
        v.get("name")
        for v in detail.variables
        if isinstance(v, dict) and v.get("kind", "untrusted") != "trusted"
    ]
    name = untrusted[0] if len(untrusted) == 1 and isinstance(untrusted[0], str) else "input"
    return {name: last_user_message(detail)}


@dataclass(frozen=True)
class Promoted:
    dataset: str
    dataset_id: int
    case_id: int
    created_dataset: bool


def promote(store: Store, call_id: int, dataset: str, expected: str | None) -> Promoted:
    """Add the call as a test case of `dataset` (created if new), marked promoted-from-call."""
    name = dataset.strip()
    if not name:
        raise ValueError("name the dataset to add the case to")
    detail = read_detail(store, call_id)
    if detail is None:
        raise ValueError(f"call {call_id} is not in the audit log")
    tags = {
        key: str(detail.call[column])
        for key, column in (("task_type", "task_type"), ("feature", "feature"), ("model", "model"))
        if detail.call.get(column)
    }
    from llmbench.store import datasets  # sqlite_utils: not on the way to F6's first rows

    case = datasets.NewCase(
        vars=case_vars(detail),
        expected=expected if expected else None,
        tags=tags,
        source=PROMOTED,
        source_call_id=call_id,
    )

    def write(db: Any) -> Promoted:
        found = datasets.dataset_id(db, name)
        created = found is None
        dataset_id = (
            datasets.create_dataset(db, name, description="Cases promoted from the audit log")
            if found is None
            else found
        )
        return Promoted(name, dataset_id, datasets.add_case(db, dataset_id, case), created)

    return store.write(write)


# -- export ----------------------------------------------------------------------------------


def _write_jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    written = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def _write_csv(rows: Iterator[dict[str, Any]], out: TextIO, columns: list[str]) -> int:
    # The header comes first, even when no call matches: an empty export still says its shape.
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    written = 0
    for row in rows:
        writer.writerow(row)
        written += 1
    return written


def export_calls(
    store: Store,
    flt: Filter,
    out: TextIO,
    fmt: ExportFormat,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every matching call, oldest first, as JSON lines or CSV; return how many.
    Rows stream from the database a batch at a time. Bodies were redacted when recorded,
    and a row holds nothing else secret: what is stored is what is exported."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (jsonl or csv)")
    db = store.read()
    rows = audit_browser.iter_rows(db, flt)
    if progress is not None:
        rows = _counting(rows, progress)
    if fmt == "jsonl":
        return _write_jsonl(rows, out)
    return _write_csv(rows, out, audit_browser.call_columns(db))


def _counting(rows: Iterator[dict[str, Any]], progress: Callable[[int], None]) -> Iterator[dict]:
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY == 0:
            progress(done)


# How often (in calls written) an export reports progress, and so how soon it can be stopped.
PROGRESS_EVERY = 5000


class ExportCancelled(Exception):
    """Raised by an export's progress callback to stop it; no file is left behind."""


def export_to_file(
    store: Store,
    flt: Filter,
    path: Path,
    fmt: ExportFormat,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Export into `path` as services/export_files.py writes any export: a new file 0600
    through a temporary file beside it, so a failed or cancelled export (`progress`, told the
    calls written so far every few thousand, may raise ExportCancelled) leaves no half-written
    file behind; a FIFO or a device written through, a symbolic link followed, never replaced."""
    with open_export(path) as out:
        return export_calls(store, flt, out, fmt, progress=progress)


def format_for(path: Path, explicit: str | None = None) -> ExportFormat:
    """The format asked for, else the one the file name ends with, else JSON lines."""
    chosen = (explicit or path.suffix.lstrip(".") or "jsonl").lower()
    if chosen not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {chosen!r}: use .jsonl or .csv")
    return chosen  # type: ignore[return-value]
