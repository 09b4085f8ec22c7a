"""Reasoning, cache-read and cache-write tokens read by the call importers, stored in the row's
own columns and priced at their own rates.

simonw/llm: the logs.db files llm itself wrote (tests/data/llm_logs) record no `token_details`
(their echo and markov models report none), so a copy of each layout gets the details llm's
plugins write there: llm's OpenAI models the usage without its three counts and without zeros
(llm's `simplify_usage_dict`), llm-anthropic Anthropic's usage without input and output tokens
(`set_usage`, with its cache option on). OpenAI's usage CSV has no reasoning or cache-write
column (its Usage API's completions bucket counts input, cached input, output and audio
tokens), so nothing more is read there.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.core.models import Price
from llmbench.services.imports.calls import import_file
from llmbench.store.db import Store, open_db
from tests.importers.llm_logs_source import FIXTURES

RESPONSES = FIXTURES / "llm-0.31-logs.db"
TURNS = FIXTURES / "llm-0.36-logs.db"
PRICE = Price(input=1.0, output=4.0, cached=0.25, cache_write=1.25, reasoning=8.0)


def _price(model: str, _ts: str) -> Price | None:
    return PRICE if model in ("o3-mini", "echo") else None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "bench.db") as opened:
        yield opened


def _rows(store: Store) -> list[dict[str, Any]]:
    cursor = store.read().execute(
        "SELECT request_id, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,"
        " cache_write_tokens, reasoning_price, cache_write_price, cost FROM calls ORDER BY id"
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_jsonl_reads_reasoning_and_cache_writes_of_each_shape(store: Store, tmp_path: Path) -> None:
    openai = {
        "request": {"model": "o3-mini", "messages": [{"role": "user", "content": "Why?"}]},
        "response": {
            "id": "chatcmpl-r", "created": 1746093600, "model": "o3-mini",
            "choices": [{"message": {"content": "Because."}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 1117, "completion_tokens": 1046,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 960, "audio_tokens": 0},
            },
        },
    }  # fmt: skip
    # litellm's spend log keeps the call's whole usage in metadata.usage_object.
    spend = {
        "request_id": "spend-1", "model": "o3-mini", "startTime": "2025-05-01T10:00:00Z",
        "prompt_tokens": 2100, "completion_tokens": 40,
        "metadata": {"usage_object": {
            "prompt_tokens": 2100, "completion_tokens": 40,
            "cache_creation_input_tokens": 2051, "cache_read_input_tokens": 0,
            "completion_tokens_details": {"reasoning_tokens": 0},
        }},
    }  # fmt: skip
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(openai) + "\n" + json.dumps(spend) + "\n")
    assert import_file(store, "jsonl", path, prices=_price).added == 2

    reasoned, written = _rows(store)
    assert (reasoned["cached_tokens"], reasoned["reasoning_tokens"]) == (1024, 960)
    assert (reasoned["cache_write_tokens"], reasoned["reasoning_price"]) == (None, 8.0)
    assert reasoned["cost"] == pytest.approx((93 * 1.0 + 1024 * 0.25 + 86 * 4.0 + 960 * 8.0) / 1e6)
    assert (written["reasoning_tokens"], written["cache_write_tokens"]) == (None, 2051)
    assert (written["cache_write_price"], written["reasoning_price"]) == (1.25, None)
    assert written["cost"] == pytest.approx((49 * 1.0 + 2051 * 1.25 + 40 * 4.0) / 1e6)


def test_llms_own_files_hold_no_token_details(store: Store) -> None:
    for source in (RESPONSES, TURNS):
        import_file(store, "llm-logs", source, prices=_price)
    rows = _rows(store)
    assert rows and all(
        (row["reasoning_tokens"], row["cache_write_tokens"], row["cached_tokens"])
        == (None, None, 0)
        for row in rows
    )


def _with_details(tmp_path: Path, source: Path, table: str, details: dict[str, Any]) -> str:
    """A copy of `source` whose first call with token counts has `details`; that call's id."""
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    with sqlite3.connect(path) as conn:
        (call_id,) = conn.execute(
            f"SELECT id FROM {table} WHERE input_tokens IS NOT NULL ORDER BY rowid LIMIT 1"
        ).fetchone()
        conn.execute(
            f"UPDATE {table} SET token_details = ? WHERE id = ?", [json.dumps(details), call_id]
        )
    conn.close()
    return str(call_id)


def _counts(source: Path, table: str, call_id: str) -> tuple[int, int]:
    with sqlite3.connect(source) as conn:
        found = conn.execute(
            f"SELECT input_tokens, output_tokens FROM {table} WHERE id = ?", [call_id]
        ).fetchone()
    conn.close()
    return int(found[0]), int(found[1])


def test_llm_logs_read_openai_models_details(store: Store, tmp_path: Path) -> None:
    # What llm's OpenAI plugin keeps of an o-series usage: zeros dropped.
    details = {
        "prompt_tokens_details": {"cached_tokens": 2},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    call_id = _with_details(tmp_path, RESPONSES, "responses", details)
    import_file(store, "llm-logs", tmp_path / RESPONSES.name, prices=_price)

    row = next(r for r in _rows(store) if r["request_id"] == f"llm:{call_id}")
    prompt, completion = _counts(RESPONSES, "responses", call_id)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, completion)
    assert (row["cached_tokens"], row["reasoning_tokens"], row["cache_write_tokens"]) == (
        2,
        3,
        None,
    )
    assert row["cost"] == pytest.approx(
        ((prompt - 2) * 1.0 + 2 * 0.25 + (completion - 3) * 4.0 + 3 * 8.0) / 1e6
    )


def test_llm_logs_read_anthropics_cache_reads_and_writes(store: Store, tmp_path: Path) -> None:
    # llm-anthropic keeps Anthropic's usage beside input_tokens, which leaves both out.
    details = {"cache_creation_input_tokens": 30, "cache_read_input_tokens": 20}
    call_id = _with_details(tmp_path, TURNS, "turns", details)
    import_file(store, "llm-logs", tmp_path / TURNS.name, prices=_price)

    row = next(r for r in _rows(store) if r["request_id"] == f"llm:{call_id}")
    prompt, completion = _counts(TURNS, "turns", call_id)
    assert row["prompt_tokens"] == prompt + 30 + 20
    assert (row["cached_tokens"], row["cache_write_tokens"], row["reasoning_tokens"]) == (
        20,
        30,
        None,
    )
    assert row["cost"] == pytest.approx(
        (prompt * 1.0 + 20 * 0.25 + 30 * 1.25 + completion * 4.0) / 1e6
    )
