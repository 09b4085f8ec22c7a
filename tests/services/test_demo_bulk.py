"""The demo built a slice at a time, drawn by a second process, with the bulk load
(store/bulk_load.py): its chain verifies, its rollups are what the triggers would have summed,
its search index holds every call, the file's schema is as a fresh file's, and a failure or a
stop in either process writes nothing."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from llmbench.demo.build import DemoSummary, build_demo
from llmbench.demo.content import plan
from llmbench.demo.draw_process import (
    DrawnElsewhere,
    DrawProcessError,
    DrawTask,
    SealedSlice,
    Sealing,
    receive_whole,
    released,
    send_in_parts,
)
from llmbench.demo.optimize_demo import calls_for
from llmbench.demo.optimize_runs import call_count
from llmbench.demo.slices import hour_slices, share
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit import log as audit_log
from llmbench.store.audit.log import SealPoint, database_id, rows_per_statement, verify_chain
from llmbench.store.audit.search_index import has_pending
from llmbench.store.db import open_db
from llmbench.store.schema.rollups import ROLLUP_TABLES

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
CALLS = 3000
# The story's calls and, merged into them in time order, the optimizer's demo prompt's and its
# recorded bake-off's.
TOTAL = CALLS + calls_for(CALLS) + call_count()
SLICE = 700  # production calls per slice: four or five slices


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoSummary, bytes]:
    """The demo and its chain key, read where the build stored it (before any test's own home
    is set up)."""
    summary = build_demo(
        tmp_path_factory.mktemp("bulk") / "demo.db", calls=CALLS, now=NOW, slices=SLICE
    )
    with open_db(summary.path, create=False) as store:
        return summary, load_chain_key(database_id(store.read()), create=False)


@pytest.fixture
def sliced(built: tuple[DemoSummary, bytes]) -> DemoSummary:
    return built[0]


def _schema(path: Path) -> set[tuple[str, str, str | None]]:
    with sqlite3.connect(path) as conn:
        return set(conn.execute("SELECT type, name, sql FROM sqlite_master"))


def test_the_chain_of_a_bulk_built_demo_verifies(built: tuple[DemoSummary, bytes]) -> None:
    sliced, chain_key = built
    with open_db(sliced.path, create=False) as store:
        report = verify_chain(store.read(), chain_key)
    assert report.ok, report.problem
    assert report.checked == sliced.calls == TOTAL


def test_calls_are_in_time_order_across_slices(sliced: DemoSummary) -> None:
    with sqlite3.connect(sliced.path) as conn:
        stamps = [row[0] for row in conn.execute("SELECT ts FROM calls ORDER BY id")]
    assert len(stamps) == TOTAL and stamps == sorted(stamps)


def test_rollups_equal_what_the_triggers_sum(sliced: DemoSummary, tmp_path: Path) -> None:
    # The same calls inserted into a fresh file one statement at a time: its triggers sum them.
    fresh = tmp_path / "fresh.db"
    open_db(fresh).close()
    with sqlite3.connect(fresh) as conn:
        conn.execute("ATTACH DATABASE ? AS built", (str(sliced.path),))
        columns = ", ".join(f"[{row[1]}]" for row in conn.execute("PRAGMA built.table_info(calls)"))
        conn.execute("PRAGMA foreign_keys = OFF")  # the versions and runs they name are not here
        conn.execute(f"INSERT INTO calls ({columns}) SELECT {columns} FROM built.calls ORDER BY id")
        for table in ROLLUP_TABLES:
            listed = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            select = ", ".join(f"[{name}]" for name in listed)
            by_triggers = sorted(conn.execute(f"SELECT {select} FROM main.{table}"), key=repr)
            bulk = sorted(conn.execute(f"SELECT {select} FROM built.{table}"), key=repr)
            assert len(bulk) == len(by_triggers) > 10, table
            for ours, theirs in zip(bulk, by_triggers, strict=True):
                for name, mine, expected in zip(listed, ours, theirs, strict=True):
                    if isinstance(expected, float):
                        assert math.isclose(mine, expected, rel_tol=1e-12, abs_tol=1e-12), name
                    else:
                        assert mine == expected, (table, name)


def test_the_search_index_holds_every_call(sliced: DemoSummary) -> None:
    with open_db(sliced.path, create=False) as store:
        conn = store.connection()
        assert not has_pending(conn)
        # FTS5 checks its index against the content table, row by row.
        conn.execute("INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')")
        found = conn.execute(
            "SELECT c.messages, c.response FROM calls_fts f JOIN calls c ON c.id = f.rowid"
            " WHERE calls_fts MATCH 'refund'"
        ).fetchall()
        indexed = conn.execute("SELECT count(*) FROM calls_fts_docsize").fetchone()[0]
    assert indexed == TOTAL
    assert found and all("refund" in f"{m} {r}".lower() for m, r in found)


def test_the_schema_is_as_a_fresh_files(sliced: DemoSummary, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    open_db(fresh).close()
    assert _schema(sliced.path) == _schema(fresh)


def test_a_sliced_demo_keeps_its_story(sliced: DemoSummary) -> None:
    with sqlite3.connect(sliced.path) as conn:
        conversations = conn.execute(
            "SELECT count(DISTINCT conversation_id) FROM calls WHERE conversation_id IS NOT NULL"
        ).fetchone()[0]
        images = conn.execute("SELECT count(*) FROM call_parts").fetchone()[0]
        days = conn.execute("SELECT count(*) FROM consistency_daily").fetchone()[0]
        spike = conn.execute(
            "SELECT count(*) FROM calls WHERE tags LIKE '%thread-backfill%'"
        ).fetchone()[0]
        reasoning = conn.execute(
            "SELECT count(*) FROM calls WHERE reasoning_tokens > 0"
        ).fetchone()[0]
    assert conversations >= 3 and images == 1 and days >= 25 and reasoning > 0
    assert spike == max(6, round((CALLS - sliced.results) * 0.003))


def test_slices_cover_the_hours_and_shares_add_up() -> None:
    cumulative = [float(n * n) for n in range(1, 50)]
    pieces = hour_slices(cumulative, 7)
    assert pieces[0].first == 0 and pieces[-1].end == len(cumulative)
    assert all(a.end == b.first and a.high == b.low for a, b in pairwise(pieces))
    assert sum(share(12_345, piece) for piece in pieces) == 12_345
    assert hour_slices(cumulative, 1)[0].high == 1.0
    assert len(hour_slices([1.0, 100.0, 101.0], 10)) <= 3  # an hour is never split


def test_the_drawing_process_sends_what_the_stream_draws(sliced: DemoSummary) -> None:
    # The build drew in a second process; the same plan drawn here gives the same calls.
    _content, stream = plan(calls=CALLS, now=NOW, slice_calls=SLICE)
    drawn = [
        (row["ts"], row["request_id"], row["attempt"], row.get("response"))
        for chunk in stream.chunks()
        for row in chunk
    ]
    with sqlite3.connect(sliced.path) as conn:
        stored = conn.execute(
            "SELECT ts, request_id, attempt, response FROM calls"
            " WHERE request_id NOT LIKE 'demo-extract-%'"  # drawn by this process
            " AND request_id NOT LIKE 'demo-bake-off-%' ORDER BY id"
        ).fetchall()
    assert stream.parts > 1 and stored == drawn


def test_a_failure_in_the_drawing_process_is_raised() -> None:
    task = DrawTask(seed=7, calls=CALLS, days=0, now=NOW, slice_calls=SLICE)
    with DrawnElsewhere(task) as drawn, pytest.raises(DrawProcessError, match="days must be"):
        list(drawn.chunks())
    assert not drawn.process.is_alive()


def test_a_stop_midway_writes_nothing_and_ends_the_drawing(tmp_path: Path) -> None:
    def stopping(done: int, total: int) -> None:
        if done > 0.4 * total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_demo(tmp_path / "demo.db", calls=CALLS, now=NOW, slices=SLICE, progress=stopping)
    assert list(tmp_path.iterdir()) == []
    assert not multiprocessing.active_children()


def test_a_failure_in_the_drawing_process_passes_through_the_sealing_one() -> None:
    sealing = Sealing(b"k" * 32, SealPoint(0, "genesis", 2, "a-db"), {}, {})
    task = DrawTask(seed=7, calls=CALLS, days=0, now=NOW, slice_calls=SLICE, sealing=sealing)
    with DrawnElsewhere(task) as drawn, pytest.raises(DrawProcessError, match="days must be"):
        list(drawn.chunks())
    assert drawn.sealer is not None
    assert not drawn.sealer.is_alive() and not drawn.process.is_alive()


def test_a_failure_in_the_sealing_process_is_raised_and_ends_both() -> None:
    # No ids for the prompt versions the calls name: the sealing process cannot seal them.
    sealing = Sealing(b"k" * 32, SealPoint(0, "genesis", 2, "a-db"), {}, {})
    task = DrawTask(seed=7, calls=CALLS, days=30, now=NOW, slice_calls=SLICE, sealing=sealing)
    with DrawnElsewhere(task) as drawn, pytest.raises(DrawProcessError, match="KeyError"):
        list(drawn.chunks())
    assert drawn.sealer is not None
    assert not drawn.sealer.is_alive() and not drawn.process.is_alive()


def test_the_built_file_is_in_wal_mode_with_nothing_beside_it(tmp_path: Path) -> None:
    # Built without the write-ahead log (store/bulk_load.private_file), then put back in it.
    summary = build_demo(tmp_path / "demo.db", calls=600, now=NOW, slices=200)
    assert [p.name for p in tmp_path.iterdir()] == ["demo.db"]
    conn = sqlite3.connect(summary.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_with_three_cores_a_third_process_seals_the_same_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sliced: DemoSummary
) -> None:
    monkeypatch.setattr("llmbench.demo.build.sealing_apart", lambda: True)
    apart = build_demo(tmp_path / "demo.db", calls=CALLS, now=NOW, slices=SLICE)
    compared = "SELECT ts, request_id, model, cost, messages, response, content_hash FROM calls"
    with sqlite3.connect(apart.path) as ours, sqlite3.connect(sliced.path) as theirs:
        assert ours.execute(compared).fetchall() == theirs.execute(compared).fetchall()
    with open_db(apart.path, create=False) as store:
        key = load_chain_key(database_id(store.read()), create=False)
        report = verify_chain(store.read(), key)
    assert report.ok and report.checked == TOTAL
    assert not multiprocessing.active_children()


def test_every_insert_but_the_last_is_whole_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each count of rows in one INSERT is a prepared statement of its own in the connection's
    # cache: a slice's odd tail made a new one per slice, and the writing process grew with the
    # number of calls (issue #21). A slice's tail goes in with the next slice's rows.
    sizes: list[int] = []
    insert = audit_log.insert_sealed

    def counted(db: Any, rows: Any) -> None:
        sizes.append(len(rows))
        insert(db, rows)

    monkeypatch.setattr(audit_log, "insert_sealed", counted)
    summary = build_demo(tmp_path / "demo.db", calls=1200, now=NOW, slices=300)
    with open_db(summary.path, create=False) as store:
        step = rows_per_statement(store.read())
        report = verify_chain(store.read(), load_chain_key(database_id(store.read())))
    assert sum(sizes) == summary.calls and len(sizes) >= 4  # four slices
    assert all(size % step == 0 for size in sizes[:-1])
    assert report.ok and report.checked == summary.calls


def test_a_slice_is_let_go_when_the_next_is_asked_for() -> None:
    # The generators a slice passes through keep it until the next arrives: emptied, its calls
    # are not held while the next slice is drawn or received.
    chunks = [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    stream = released(iter(chunks))
    first = next(stream)
    assert first == [{"id": 1}, {"id": 2}]
    assert next(stream) == [{"id": 3}] and first == []
    assert list(stream) == [] and chunks == [[], []]


@pytest.mark.parametrize("count", [0, 1, 4, 5, 9])
def test_a_slice_sent_in_parts_arrives_whole(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    # A slice crosses the pipe a few rows to a message, so its whole pickle is never held.
    monkeypatch.setattr("llmbench.demo.draw_process.PIECE_ROWS", 2)
    rows = [{"id": n, "text": "x" * n} for n in range(count)]
    theirs, ours = multiprocessing.Pipe(duplex=False)
    ours.send(("rows", send_in_parts(ours, rows), (count, 9)))
    assert receive_whole(theirs) == ("rows", rows, (count, 9))
    sealed = SealedSlice([(n,) for n in range(count)], {"r": 1}, [])
    ours.send(("rows", replace(sealed, rows=send_in_parts(ours, sealed.rows)), (1, 2)))
    assert receive_whole(theirs) == ("rows", sealed, (1, 2))
    send_in_parts(ours, rows)
    ours.send(("failed", "KeyError: 'x'"))  # a failure midway: the parts go with the slice
    assert receive_whole(theirs) == ("failed", "KeyError: 'x'")
    assert not theirs.poll()
