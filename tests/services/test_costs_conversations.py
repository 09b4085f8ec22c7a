"""A breakdown by conversation reads the few tagged calls on their partial index and nets the
untagged group from the rollups' sums; the figures are those of reading every call of the
window, whichever way it goes (few tagged calls, or most)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.services.costs import window_sums
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.db import Store, open_db
from tests.support.traffic import write_calls

SINCE = "2025-06-01T18:00:00.000Z"  # a partial first day: its smaller part is read from calls
UNTIL = "2025-06-05T12:00:00.000Z"


def _calls(tag_every: int) -> list[dict[str, object]]:
    calls = []
    for n in range(240):  # two an hour from May 31st 12:00 to June 5th 12:00
        hour = 12 + n // 2
        ts = f"2025-05-31T{hour:02d}" if hour < 24 else f"2025-06-{hour // 24:02d}T{hour % 24:02d}"
        calls.append(
            {
                "ts": f"{ts}:{15 * (n % 2):02d}:00.000Z",
                "request_id": f"r{n}",
                "model_requested": ("a", "b")[n % 2],
                "model": ("a", "b")[n % 2],
                "status": "ok",
                "feature": ("chat", "search", None)[n % 3],
                "prompt_tokens": 100 + n,
                "completion_tokens": 10 + n % 7,
                "cost": 0.001 * (1 + n % 5),
                "conversation_id": f"c{n % 4}" if n % tag_every == 0 else None,
            }
        )
    return calls


@pytest.fixture(params=[12, 1], ids=["few-tagged", "all-tagged"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    store = open_db(tmp_path / "conversations.db")
    write_calls(store, _calls(request.param))
    yield store
    store.close()


def _rows(rows: list[costs_repo.GroupedRow]) -> list[tuple[object, ...]]:
    return sorted(
        (repr(row.keys), row.day, row.calls, row.prompt_tokens, row.completion_tokens,
         round(row.cost, 12), row.unpriced)
        for row in rows
    )  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "filters"),
    [
        (["conversation"], {}),
        (["conversation", "model"], {}),
        (["model", "conversation"], {"feature": "chat"}),
        (["conversation", "day"], {}),
        (["conversation"], {"feature": None}),
    ],
)
def test_the_figures_are_those_of_reading_every_call(
    store: Store, columns: list[str], filters: dict[str, object]
) -> None:
    every_call = costs_repo.grouped(store.read(), columns, SINCE, UNTIL, filters)
    assert every_call  # the window has calls in every case
    assert _rows(window_sums.grouped(store, columns, SINCE, UNTIL, filters)) == _rows(every_call)


def test_few_tagged_calls_are_read_on_the_partial_index(store: Store, tmp_path: Path) -> None:
    statements: list[str] = []
    store.read().conn.set_trace_callback(statements.append)
    try:
        window_sums.grouped(store, ["conversation"], SINCE, UNTIL)
    finally:
        store.read().conn.set_trace_callback(None)
    tagged = [sql for sql in statements if "INDEXED BY calls_conversation" in sql]
    grouping = [sql for sql in statements if "GROUP BY [conversation_id]" in sql]
    every_call = [sql for sql in grouping if sql not in tagged]
    few = store.read().execute("SELECT count(conversation_id) FROM calls").fetchone()[0] < 100
    if few:  # 20 of 240 calls: the tagged ones alone, and no read of the window's every call
        assert any("GROUP BY" in sql for sql in tagged)
        assert not every_call
    else:  # every call tagged: the partial index would walk the whole log, so the window is read
        assert not any("GROUP BY" in sql for sql in tagged)
        assert every_call
