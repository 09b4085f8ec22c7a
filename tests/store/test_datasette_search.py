"""Datasette finds the calls' search index of an llmbench file and searches calls with it.

Datasette recognises a table's FTS index by the index's declaration (`content="calls"` or
`content=[calls]`, its `detect_fts`); without it, `?_search=` is ignored and every row comes
back. A small demo database is opened with Datasette's own Python API, in this process (its
ASGI client: no server, no network).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette

from llmbench.demo.build import build_demo
from llmbench.store.db import open_db

DEMO_CALLS = 200
WORD = "refund"
ABSENT = "zqxnotawordanywhere"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("datasette") / "demo.db"
    build_demo(path, calls=DEMO_CALLS)
    yield path


def _words(text: str | None) -> set[str]:
    """The index's words of a text: its tokenizer (unicode61) splits on every character that
    is not a letter or a digit, and folds case."""
    return set(re.findall(r"[^\W_]+", (text or "").lower()))


def _ids_matching(path: Path, word: str | None) -> set[int]:
    """The calls whose messages or response hold `word` (every call for None), read from the
    file itself rather than through the index."""
    with open_db(path, create=False) as store:
        rows = store.read().execute("SELECT id, messages, response FROM calls").fetchall()
    return {
        call_id
        for call_id, messages, response in rows
        if word is None or word in _words(messages) | _words(response)
    }


async def _json(datasette: Datasette, url: str) -> Any:
    response = await datasette.client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


async def test_datasette_detects_the_calls_search_index(demo_file: Path) -> None:
    datasette = Datasette([str(demo_file)])
    database = await _json(datasette, f"/{demo_file.stem}.json")
    tables = {table["name"]: table for table in database["tables"]}
    assert tables["calls"]["fts_table"] == "calls_fts"


async def test_searching_calls_returns_only_the_matching_ones(demo_file: Path) -> None:
    datasette = Datasette([str(demo_file)])
    expected = _ids_matching(demo_file, WORD)
    total = len(_ids_matching(demo_file, None))
    assert 0 < len(expected) < total  # a word some calls hold and others do not

    url = f"/{demo_file.stem}/calls.json?_search={WORD}&_shape=array&_size=max&_col=id"
    found = await _json(datasette, url)
    assert {row["id"] for row in found} == expected

    nothing = await _json(
        datasette, f"/{demo_file.stem}/calls.json?_search={ABSENT}&_shape=array&_col=id"
    )
    assert nothing == []
