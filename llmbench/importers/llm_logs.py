"""simonw/llm's logs.db as calls for the audit log.

The file has two shapes. llm 0.36 and later log each exchange into `turns` (model,
resolved_model, input/output tokens, duration_ms, datetime_utc) with its text in `messages`
and `parts`, and leave `responses` empty; older files have only `responses` (prompt, system,
response, input_tokens, output_tokens, duration_ms, datetime_utc). Both are read, and a file
with rows in both yields both. Each call's request id is `llm:<id>`, so importing the same file
again adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from llmbench.importers.calls_common import (
    CallOrProblem,
    ImportProblem,
    ParsedCalls,
    collect,
    messages_json,
    to_store_time,
    tokens,
)
from llmbench.store.foreign import ForeignDatabase, ForeignDatabaseError

SOURCE_TAG = "llm-logs"
Progress = Callable[[int, int], None]
_TAGS = {kind: json.dumps({"source": SOURCE_TAG, "table": kind}) for kind in ("responses", "turns")}


def _call(
    row: dict[str, Any], messages: str | None, response: str | None, kind: str
) -> dict[str, Any]:
    if not row.get("id"):
        raise ValueError("no id")
    if not row.get("model"):
        raise ValueError("no model")
    answered = row.get("resolved_model") or row["model"]
    duration = row.get("duration_ms")
    if response is not None and not isinstance(response, str):
        raise ValueError(f"response is not text: {type(response).__name__}")
    if duration is not None and not isinstance(duration, int | float):
        raise ValueError(f"duration_ms is not a number: {duration!r}")
    return {
        "ts": to_store_time(row.get("datetime_utc")),
        "request_id": f"llm:{row['id']}",
        "model_requested": str(row["model"]),
        "model": str(answered),
        "messages": messages,
        "response": response,
        "prompt_tokens": tokens(row.get("input_tokens"), "input_tokens"),
        "completion_tokens": tokens(row.get("output_tokens"), "output_tokens"),
        "latency_ms": float(duration) if duration is not None else None,
        "status": "ok",
        "tags": _TAGS[kind],
    }


def _params(value: Any) -> str:
    if not value or value == "{}":
        return "{}"
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise ValueError("options_json is not JSON") from None
    return json.dumps(parsed if isinstance(parsed, dict) else {})


def _turn_text(db: ForeignDatabase) -> dict[Any, tuple[str | None, str | None]]:
    """Each turn's input and output text from `parts`, when the file links parts to turns."""
    columns = set(db.columns("parts"))
    if not {"turn_id", "direction", "content"} <= columns:
        return {}
    order = '"order"' if "order" in columns else "rowid"
    role = "role" if "role" in columns else "NULL"
    found: dict[Any, tuple[list[dict[str, str]], list[str]]] = {}
    for part in db.rows(
        f"SELECT turn_id, direction, {role} AS role, content FROM parts"
        f" WHERE content IS NOT NULL ORDER BY turn_id, {order}"
    ):
        inputs, outputs = found.setdefault(part["turn_id"], ([], []))
        if part["direction"] == "output":
            outputs.append(str(part["content"]))
        else:
            inputs.append({"role": str(part["role"] or "user"), "content": str(part["content"])})
    return {
        turn: (json.dumps(inputs) if inputs else None, "".join(outputs) if outputs else None)
        for turn, (inputs, outputs) in found.items()
    }


def read_llm_logs(path: Path, progress: Progress | None = None) -> ParsedCalls:
    """Every logged exchange as a call (not yet priced), with a problem per unreadable row."""
    return collect(str(path), iter_llm_logs(path, progress))


def iter_llm_logs(path: Path, progress: Progress | None = None) -> Iterator[CallOrProblem]:
    """The calls of `read_llm_logs` one at a time, in file order, so a large file is imported
    while it is read."""
    try:
        db = ForeignDatabase(path)
    except ForeignDatabaseError as error:
        yield ImportProblem(str(path), str(error))
        return
    with db:
        has_turns = "id" in db.columns("turns")
        has_responses = "id" in db.columns("responses")
        if not has_turns and not has_responses:
            yield ImportProblem(
                str(path), "neither a `turns` nor a `responses` table: not llm's logs.db"
            )
            return
        total = (db.count("turns") if has_turns else 0) + (
            db.count("responses") if has_responses else 0
        )
        done = 0
        if has_responses:
            for number, row in enumerate(db.rows("SELECT * FROM responses ORDER BY rowid"), 1):
                try:
                    call = _call(
                        row, messages_json(row.get("system"), row.get("prompt")),
                        row.get("response"), "responses",
                    )  # fmt: skip
                    call["params"] = _params(row.get("options_json"))
                    yield call
                except ValueError as error:
                    yield ImportProblem(f"{path.name}: responses row {number}", str(error))
                done += 1
                if progress and done % 10_000 == 0:
                    progress(done, total)
        if has_turns:
            texts = _turn_text(db)
            for number, row in enumerate(db.rows("SELECT * FROM turns ORDER BY rowid"), 1):
                messages, response = texts.get(row.get("id"), (None, None))
                try:
                    call = _call(row, messages, response, "turns")
                    call["params"] = _params(row.get("options_json"))
                    yield call
                except ValueError as error:
                    yield ImportProblem(f"{path.name}: turns row {number}", str(error))
                done += 1
                if progress and done % 10_000 == 0:
                    progress(done, total)
        if progress:
            progress(done, total)
