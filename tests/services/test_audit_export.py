"""Exports of the audit log: a CSV always starts with its header, even when nothing matches."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.services.audit import browser as audit_log
from llmbench.store.audit.log import append_calls
from llmbench.store.db import Store, open_db

KEY = b"k" * 32


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "export.db")
    calls = [
        {"ts": f"2025-05-01T10:0{n}:00.000Z", "request_id": f"r{n}", "model_requested": "m",
         "model": "m", "status": "ok", "feature": "chat", "cost": n / 10}
        for n in range(3)
    ]  # fmt: skip
    store.write(lambda db: append_calls(db, KEY, calls))
    yield store
    store.close()


def _csv(store: Store, query: str) -> list[list[str]]:
    out = io.StringIO()
    audit_log.export_calls(store, audit_log.compile_query(store, query), out, "csv")
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_an_empty_csv_export_still_has_its_header(store: Store) -> None:
    lines = _csv(store, "model:nobody")
    columns = [row[1] for row in store.read().execute("PRAGMA table_info(calls)").fetchall()]
    assert lines == [columns]


def test_a_csv_export_has_the_same_header_and_a_line_per_call(store: Store) -> None:
    lines = _csv(store, "feature:chat")
    assert lines[0] == _csv(store, "model:nobody")[0]
    assert [line[lines[0].index("request_id")] for line in lines[1:]] == ["r0", "r1", "r2"]


def test_an_empty_jsonl_export_is_empty(store: Store) -> None:
    out = io.StringIO()
    written = audit_log.export_calls(
        store, audit_log.compile_query(store, "model:nobody"), out, "jsonl"
    )
    assert (written, out.getvalue()) == (0, "")
