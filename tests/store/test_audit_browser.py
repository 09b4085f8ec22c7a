"""Keyset paging over the audit log: every matching call exactly once, in order, both ways,
with and without search; counts that stop early; plans that walk an index instead of sorting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.core.audit.query import CALL_STATUSES, QueryError, parse
from llmbench.store.audit import browser as audit_browser
from llmbench.store.audit.log import append_calls
from llmbench.store.db import Store, open_db
from llmbench.store.schema.vocabulary import CALL_STATUSES as STORED_STATUSES

KEY = b"k" * 32
NOW = datetime(2025, 6, 1, tzinfo=UTC)
MODELS = ("gpt-4o", "gpt-4o-mini", "claude")
WORDS = ("refund", "invoice", "login", "export", "refunded")


def _call(n: int) -> dict[str, Any]:
    # Every third call shares its timestamp with the next: ties are broken by id.
    second = n - n % 3
    return {
        "ts": f"2025-05-{1 + second // 60:02d}T10:{second % 60:02d}:00.000Z",
        "request_id": f"req-{n // 2}",
        "attempt": 1 + n % 2,
        "model_requested": MODELS[n % 3],
        "model": MODELS[n % 3],
        "status": CALL_STATUSES[n % 4],
        "feature": "support" if n % 2 else "extract",
        "user": f"u{n % 5}",
        "cost": n / 1000,
        "latency_ms": float(n * 10),
        "messages": json.dumps([{"role": "user", "content": f"ticket {n} {WORDS[n % 5]}"}]),
        "response": f"answer {n} about {WORDS[(n + 1) % 5]}",
        "flagged": int(n % 17 == 0),
    }


CALLS = [_call(n) for n in range(1, 241)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("audit") / "calls.db"
    with open_db(path) as opened:
        opened.write(lambda db: append_calls(db, KEY, CALLS))
        yield opened


def _expected(match: Any) -> list[int]:
    """Ids of matching calls, newest first, by (ts, id)."""
    rows = [(call["ts"], n, call) for n, call in enumerate(CALLS, start=1)]
    return [
        n for ts, n, call in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True) if match(call)
    ]


def _walk(store: Store, text: str, limit: int) -> tuple[list[int], list[int]]:
    """Every row, paging older from the top and newer from the bottom."""
    db = store.read()
    flt = audit_browser.compile_filter(db, parse(text), NOW)
    down: list[int] = []
    key = None
    while True:
        page = audit_browser.page(db, flt, after=key, direction="older", limit=limit)
        down += [row.id for row in page.rows]
        if not page.more:
            break
        key = page.rows[-1].key
    up: list[int] = []
    key = None
    while True:
        page = audit_browser.page(db, flt, after=key, direction="newer", limit=limit)
        up = [row.id for row in page.rows] + up
        if not page.more:
            break
        key = page.rows[0].key
    return down, up


CASES = {
    "": lambda c: True,
    "model:gpt-4o": lambda c: c["model"] == "gpt-4o",
    "model:gpt-4o,claude": lambda c: c["model"] in ("gpt-4o", "claude"),
    "model:gpt-4o,claude status:error": lambda c: (
        c["model"] in ("gpt-4o", "claude") and c["status"] == "error"
    ),
    "status:ok,error feature:support": lambda c: (
        c["status"] in ("ok", "error") and c["feature"] == "support"
    ),
    "user:u1 cost>0.05": lambda c: c["user"] == "u1" and c["cost"] > 0.05,
    "since:2025-05-02 until:2025-05-03": lambda c: "2025-05-02" <= c["ts"][:10] <= "2025-05-03",
    "flagged": lambda c: c["flagged"] == 1,
    "latency<=500": lambda c: c["latency_ms"] <= 500,
}


@pytest.mark.parametrize("text", list(CASES))
@pytest.mark.parametrize("limit", [1, 7, 50, 500])
def test_paging_returns_every_row_once_in_both_directions(
    store: Store, text: str, limit: int
) -> None:
    expected = _expected(CASES[text])
    down, up = _walk(store, text, limit)
    assert down == expected
    assert up == expected


def _mentions(call: dict[str, Any], word: str, prefix: bool = False) -> bool:
    words = (json.loads(call["messages"])[0]["content"] + " " + call["response"]).split()
    return any(w == word or (prefix and w.startswith(word)) for w in words)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("refund", lambda c: _mentions(c, "refund")),
        ("refund*", lambda c: _mentions(c, "refund", prefix=True)),
        ("refund model:claude", lambda c: _mentions(c, "refund") and c["model"] == "claude"),
        ('"ticket 12"', lambda c: "ticket 12 " in json.loads(c["messages"])[0]["content"]),
    ],
)
@pytest.mark.parametrize("limit", [3, 40])
def test_search_pages_by_insertion_order(store: Store, text: str, match: Any, limit: int) -> None:
    expected = sorted((n for n, call in enumerate(CALLS, 1) if match(call)), reverse=True)
    assert expected
    down, up = _walk(store, text, limit)
    assert down == expected == up


def test_search_marks_where_it_matched(store: Store) -> None:
    db = store.read()
    flt = audit_browser.compile_filter(db, parse("invoice"), NOW)
    rows = audit_browser.page(db, flt, limit=5).rows
    assert rows
    for row in rows:
        assert row.snippet is not None and row.snippet.spans
        start, end = row.snippet.spans[0]
        assert row.snippet.text[start:end].lower() == "invoice"


def test_counts_are_exact_up_to_the_cap(store: Store) -> None:
    db = store.read()
    everything = audit_browser.compile_filter(db, parse(""), NOW)
    assert audit_browser.count(db, everything) == (len(CALLS), True)
    errors = audit_browser.compile_filter(db, parse("status:error"), NOW)
    assert audit_browser.count(db, errors) == (60, True)
    assert audit_browser.count(db, errors, cap=50) == (50, False)
    search = audit_browser.compile_filter(db, parse("refund"), NOW)
    assert audit_browser.count(db, search, cap=10) == (10, False)


def test_seek_lands_on_the_newest_call_before_the_moment(store: Store) -> None:
    db = store.read()
    for text in ("", "refund"):
        flt = audit_browser.compile_filter(db, parse(text), NOW)
        rows = audit_browser.seek(db, flt, "2025-05-03T00:00:00.000Z", limit=3).rows
        assert rows and all(row.ts < "2025-05-03" for row in rows)
        newer = audit_browser.page(db, flt, after=rows[0].key, direction="newer", limit=1).rows
        assert newer and newer[0].ts >= "2025-05-03"


def test_an_unknown_prompt_matches_nothing(store: Store) -> None:
    db = store.read()
    flt = audit_browser.compile_filter(db, parse("version:nope@1"), NOW)
    assert audit_browser.page(db, flt).rows == []


def test_export_rows_stream_oldest_first_with_every_column(store: Store) -> None:
    db = store.read()
    flt = audit_browser.compile_filter(db, parse("model:claude"), NOW)
    rows = list(audit_browser.iter_rows(db, flt, batch=7))
    assert [row["id"] for row in rows] == list(
        reversed(_expected(lambda c: c["model"] == "claude"))
    )
    assert {"messages", "response", "hash", "prev_hash", "content_hash"} <= set(rows[0])


@pytest.mark.parametrize(
    "text", ["", "model:gpt-4o", "status:error", "feature:support", "model:gpt-4o status:error"]
)
def test_filters_walk_an_index_in_order_without_sorting(store: Store, text: str) -> None:
    db = store.read()
    flt = audit_browser.compile_filter(db, parse(text), NOW)
    sql, params = audit_browser._select(flt, audit_browser.CallKey("2025-05-03", 5), "older", 10)
    plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "TEMP B-TREE" not in plan
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan


def test_the_statuses_match_the_schema() -> None:
    assert CALL_STATUSES == STORED_STATUSES


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            ["model:gpt-4o", "model:a,b,c", "status:error", "since:3d", "until:2025-05-02",
             "cost>0.1", "tokens<5", "version:x", "version:x@2", "run:1", "user:u1", "guard:pii",
             "flagged", "refund", "inv*", '"a b"', "NEAR", "AND", "-", "(", ")", "^", "'", ":"]
        ),
        max_size=6,
    )
)  # fmt: skip
def test_any_query_that_parses_runs(store: Store, terms: list[str]) -> None:
    try:
        query = parse(" ".join(terms))
    except QueryError:
        return
    db = store.read()
    flt = audit_browser.compile_filter(db, query, NOW)
    audit_browser.page(db, flt, limit=5)
    audit_browser.count(db, flt, cap=20)
