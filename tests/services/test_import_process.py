"""A large import prepared by a second process while this one writes: the same calls, chain and
index as an import in one process, all or nothing, and a clear error when the reader fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Price
from llmbench.gateway.chain_key import load_chain_key
from llmbench.importers.calls.common import CallImportError
from llmbench.services.imports import preparation as costs_import
from llmbench.services.imports.calls import import_file
from llmbench.services.imports.reader_process import ImportProcessError, import_in_two_processes
from llmbench.store.audit.log import append_calls, database_id, verify_chain
from llmbench.store.audit.search_index import has_pending
from llmbench.store.costs.prices import set_price
from llmbench.store.db import Store, open_db

ROWS = 2_500
PRICE = Price(input=2.5, output=10.0, cached=1.25)
COMPARED = (
    "id, ts, request_id, model_requested, model, messages, response, params, prompt_tokens,"
    " completion_tokens, cost, input_price, latency_ms, status, tags"
)


def _logs_db(path: Path, rows: int, bad_row: int | None = None) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE responses (id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT,"
        " options_json TEXT, response TEXT, duration_ms INTEGER, datetime_utc TEXT,"
        " input_tokens INTEGER, output_tokens INTEGER, resolved_model TEXT)"
    )
    conn.executemany(
        "INSERT INTO responses (id, model, prompt, options_json, response, duration_ms,"
        " datetime_utc, input_tokens, output_tokens) VALUES (?, ?, ?, '{}', ?, 800, ?, ?, ?)",
        (
            (f"r{n:06d}", "gpt-4o" if n % 3 else "local-llama", f"question {n} kumquat{n % 7}",
             f"answer {n}", f"2025-05-{1 + n % 28:02d}T10:00:{n % 60:02d}.250000",
             "many" if n == bad_row else 100 + n, 20 + n % 50)
            for n in range(rows)
        ),
    )  # fmt: skip
    conn.commit()
    conn.close()
    return path


def _store(path: Path, priced: tuple[str, ...] = ("gpt-4o",)) -> Store:
    store = open_db(path)
    for model in priced:
        store.write(lambda db, model=model: set_price(db, DatedPrice(model, "2020-01-01", PRICE)))
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    # Both models priced: a model without a price of the user's is looked up in litellm's
    # table, whose import costs the reading process seconds (one test covers it).
    store = _store(tmp_path / "two.db", ("gpt-4o", "local-llama"))
    yield store
    store.close()


def _rows(store: Store) -> list[tuple]:
    return store.read().execute(f"SELECT {COMPARED} FROM calls ORDER BY id").fetchall()


def _matches(store: Store, word: str) -> int:
    query = "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?"
    return int(store.read().execute(query, [word]).fetchone()[0])


def _fully_indexed(store: Store) -> bool:
    return not has_pending(store.read().conn)


def test_two_processes_import_what_one_process_imports(tmp_path: Path) -> None:
    source = _logs_db(tmp_path / "logs.db", ROWS)
    one, two = _store(tmp_path / "one.db"), _store(tmp_path / "two.db")
    try:
        alone = import_file(one, "llm-logs", source, parallel=False)
        expected = _rows(one)
        outcome = import_file(two, "llm-logs", source, parallel=True)
        _check_same_import(two, expected)
    finally:
        one.close()
        two.close()

    assert outcome == alone
    assert (outcome.read, outcome.added, outcome.unpriced) == (ROWS, ROWS, ROWS // 3 + 1)


def _check_same_import(store: Store, expected: list[tuple]) -> None:
    assert _rows(store) == expected
    key = load_chain_key(database_id(store.read()))
    assert verify_chain(store.read(), key).ok
    assert _matches(store, "kumquat3") == len([n for n in range(ROWS) if n % 7 == 3])
    store.read().execute("INSERT INTO calls_fts(calls_fts, rank) VALUES ('integrity-check', 1)")


def test_the_index_is_whole_after_an_import_and_keeps_up(store: Store, tmp_path: Path) -> None:
    import_file(store, "llm-logs", _logs_db(tmp_path / "logs.db", 10), parallel=True)
    assert _fully_indexed(store)
    key = load_chain_key(database_id(store.read()))
    later = {
        "ts": "2025-06-01T00:00:00.000Z",
        "request_id": "gateway-1",
        "model_requested": "gpt-4o",
        "model": "gpt-4o",
        "status": "ok",
        "response": "a zanzibar answer",
    }
    store.write(lambda db: append_calls(db, key, [later]))
    assert _matches(store, "zanzibar") == 1


def test_importing_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    source = _logs_db(tmp_path / "logs.db", 300)
    import_file(store, "llm-logs", source, parallel=True)
    again = import_file(store, "llm-logs", source, parallel=True)
    assert (again.read, again.added, again.skipped) == (300, 0, 300)
    assert len(_rows(store)) == 300


def test_a_bad_row_writes_nothing_and_names_the_row(store: Store, tmp_path: Path) -> None:
    source = _logs_db(tmp_path / "logs.db", ROWS, bad_row=2_200)
    with pytest.raises(CallImportError, match=r"responses row 2201: input_tokens is not a count"):
        import_file(store, "llm-logs", source, parallel=True)
    assert _rows(store) == []
    assert _matches(store, "kumquat3") == 0
    assert _fully_indexed(store)


def test_a_failing_reader_is_a_clear_error_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    source = _logs_db(tmp_path / "logs.db", 10)
    with pytest.raises(ImportProcessError, match="unknown import kind 'nope'"):
        import_in_two_processes(store, "nope", source, None, None)
    assert _rows(store) == []
    assert _fully_indexed(store)


def test_a_chunked_import_in_one_process_keeps_one_chain(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(costs_import, "CHUNK", 64)
    source = _logs_db(tmp_path / "logs.db", 500)
    outcome = import_file(store, "llm-logs", source, parallel=False)
    assert outcome.added == 500
    key = load_chain_key(database_id(store.read()))
    assert verify_chain(store.read(), key).ok
    assert _matches(store, "kumquat3") == len([n for n in range(500) if n % 7 == 3])


def test_custom_prices_cannot_cross_to_another_process(store: Store, tmp_path: Path) -> None:
    source = _logs_db(tmp_path / "logs.db", 10)
    with pytest.raises(ValueError, match="prices=None"):
        import_file(store, "llm-logs", source, prices=lambda _m, _t: PRICE, parallel=True)
