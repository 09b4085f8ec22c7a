"""OpenAI usage exports (CSV from the usage dashboard or the Usage API's completions bucket)
as calls for the audit log.

Each row is a time bucket of one model (and project, key, user when grouped so): it becomes one
call row carrying the bucket's tokens, with the number of requests it stands for in its tags
(`requests`). The request id is derived from the row's content, so a re-import adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from llmbench.importers.calls.common import (
    CallOrProblem,
    ImportProblem,
    to_store_time,
    tokens,
)

SOURCE_TAG = "openai-usage"
Progress = Callable[[int, int], None]
TIME_COLUMNS = ("start_time_iso", "start_time", "timestamp", "date")
REQUIRED = ("model", "input_tokens", "output_tokens")


def _time(row: dict[str, str]) -> str:
    for column in TIME_COLUMNS:
        value = (row.get(column) or "").strip()
        if value:
            return to_store_time(float(value) if value.replace(".", "", 1).isdigit() else value)
    raise ValueError(f"no time (one of {', '.join(TIME_COLUMNS)})")


def _call(row: dict[str, str]) -> dict[str, Any]:
    model = (row.get("model") or "").strip()
    if not model:
        raise ValueError("no model")
    requests = tokens(row.get("num_model_requests") or 1, "num_model_requests")
    identity = json.dumps(row, sort_keys=True)
    return {
        "ts": _time(row),
        "request_id": "openai-usage:" + hashlib.sha256(identity.encode()).hexdigest()[:32],
        "model_requested": model,
        "model": model,
        "provider": "openai",
        "prompt_tokens": tokens(row.get("input_tokens"), "input_tokens"),
        "completion_tokens": tokens(row.get("output_tokens"), "output_tokens"),
        "cached_tokens": tokens(row.get("input_cached_tokens"), "input_cached_tokens"),
        "status": "ok",
        "user": (row.get("user_id") or "").strip() or None,
        "team": (row.get("project_id") or "").strip() or None,
        "tags": json.dumps(
            {
                "source": SOURCE_TAG,
                "requests": requests,
                **({"api_key_id": row["api_key_id"]} if row.get("api_key_id") else {}),
                **({"batch": row["batch"]} if row.get("batch") else {}),
            }
        ),
    }


def iter_usage_csv(path: Path, progress: Progress | None = None) -> Iterator[CallOrProblem]:
    """One call per data row, or a problem (with its line number) per row it cannot read, one
    at a time in file order."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        yield ImportProblem(str(path), error.strerror or str(error))
        return
    with handle:
        try:
            yield from _read_rows(csv.DictReader(handle), path, progress)
        except UnicodeDecodeError:  # text is decoded a block at a time: no line to name
            yield ImportProblem(path.name, "not UTF-8 text")


def _read_rows(
    reader: csv.DictReader[str], path: Path, progress: Progress | None
) -> Iterator[CallOrProblem]:
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        yield ImportProblem(f"{path.name}:1", f"no {', '.join(missing)} column")
        return
    read = 0
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            yield ImportProblem(f"{path.name}:{line}", f"expected {len(header)} columns")
            continue
        try:
            yield _call(row)
            read += 1
        except ValueError as error:
            yield ImportProblem(f"{path.name}:{line}", str(error))
        if progress and line % 10_000 == 0:
            progress(line, 0)
    if progress:
        progress(read, read)
