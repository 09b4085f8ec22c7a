"""The daily rollup tables always equal a fresh aggregation of `calls`: after appends, imports,
purges (deleting and redacting), updates inside a purge window, and the migration's back-fill of
a log written before the rollups existed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmbench.core.audit.chain import GENESIS
from llmbench.gateway.chain_key import load_chain_key
from llmbench.importers.calls.common import ParsedCalls
from llmbench.services.costs import window_sums as costs_cache
from llmbench.services.imports.calls import import_parsed
from llmbench.store import monitor as monitor_repo
from llmbench.store.audit.log import (
    append_calls,
    database_id,
    insert_sealed,
    plan_purge,
    purge,
    seal_calls,
    verify_chain,
)
from llmbench.store.costs import breakdowns as costs_repo
from llmbench.store.db import APPLICATION_ID, Store, connect, open_db
from llmbench.store.schema.migrations import migrations
from llmbench.store.schema.rollups import ROLLUP_SUMS, ROLLUP_TABLES
from llmbench.store.views import to_iso
from tests.store.purge_window import open_purge_window

START = datetime(2025, 3, 1, tzinfo=UTC)


def fresh_aggregation(db: Any, table: str) -> list[tuple[Any, ...]]:
    keys = ", ".join(f"[{key}]" for key in ROLLUP_TABLES[table])
    sums = ", ".join(
        "count(*)" if name == "calls" else f"sum({value.format(row='calls')})"
        for name, value in ROLLUP_SUMS
    )
    rows = db.execute(
        f"SELECT substr(ts, 1, 10), {keys}, {sums} FROM calls GROUP BY substr(ts, 1, 10), {keys}"
    ).fetchall()
    return sorted(rows, key=repr)


def rollup_rows(db: Any, table: str) -> list[tuple[Any, ...]]:
    keys = ", ".join(f"[{key}]" for key in ROLLUP_TABLES[table])
    sums = ", ".join(name for name, _ in ROLLUP_SUMS)
    return sorted(db.execute(f"SELECT day, {keys}, {sums} FROM {table}").fetchall(), key=repr)


def assert_rollups_exact(db: Any) -> None:
    for table in ROLLUP_TABLES:
        expected, found = fresh_aggregation(db, table), rollup_rows(db, table)
        assert len(found) == len(expected), table
        for want, got in zip(expected, found, strict=True):
            # Integer sums match exactly; money sums up to float rounding of the order of adds.
            assert got == pytest.approx(want, abs=1e-9), table


call_strategy = st.fixed_dictionaries(
    {
        "minutes": st.integers(0, 4 * 24 * 60),
        "model": st.sampled_from(["gpt-4o", "claude", "local"]),
        "status": st.sampled_from(["ok", "ok", "error", "cache_hit"]),
        "feature": st.sampled_from([None, "", "chat", "search"]),
        "team": st.sampled_from([None, "growth"]),
        "customer": st.sampled_from([None, "acme", "globex"]),
        "user": st.sampled_from([None, "u1", "u2"]),
        "task_type": st.sampled_from([None, "qa"]),
        "prompt_tokens": st.integers(0, 5000),
        "completion_tokens": st.integers(0, 800),
        "cached_tokens": st.integers(0, 100),
        "cost": st.one_of(st.none(), st.floats(0, 2, allow_nan=False)),
        "saving": st.sampled_from([0.0, 0.125]),
    }
)


def as_call(n: int, fields: dict[str, Any]) -> dict[str, Any]:
    call = {key: value for key, value in fields.items() if key != "minutes"}
    call.update(
        ts=to_iso(START + timedelta(minutes=fields["minutes"])),
        request_id=f"req-{n}",
        model_requested=fields["model"],
        messages='[{"role": "user", "content": "hi"}]',
        response="hello",
    )
    return call


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_db(tmp_path / "rollups.db")
    yield store
    store.close()


def write(store: Store, calls: list[dict[str, Any]]) -> None:
    key = load_chain_key(database_id(store.read()))
    store.write(lambda db: append_calls(db, key, calls))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.lists(call_strategy, min_size=1, max_size=12), min_size=1, max_size=4),
    delete_day=st.one_of(st.none(), st.integers(0, 4)),
    redact_day=st.one_of(st.none(), st.integers(0, 4)),
)
def test_rollups_equal_a_fresh_aggregation_after_appends_and_purges(
    batches: list[list[dict[str, Any]]], delete_day: int | None, redact_day: int | None
) -> None:
    with tempfile.TemporaryDirectory() as folder, open_db(Path(folder) / "r.db") as store:
        n = 0
        for batch in batches:
            calls = []
            for fields in batch:
                calls.append(as_call(n, fields))
                n += 1
            write(store, calls)
            assert_rollups_exact(store.read())
        if delete_day is not None or redact_day is not None:
            key = load_chain_key(database_id(store.read()))
            delete = to_iso(START + timedelta(days=delete_day)) if delete_day is not None else None
            redact = to_iso(START + timedelta(days=redact_day)) if redact_day is not None else None
            store.write(lambda db: purge(db, key, plan_purge(db, delete, redact), "test"))
            assert_rollups_exact(store.read())
            assert verify_chain(store.read(), key).ok


def test_an_import_keeps_the_rollups_exact(store: Store) -> None:
    write(store, [as_call(0, {"minutes": 10, "model": "a", "status": "ok", "cost": 0.5})])
    imported = [
        as_call(
            100 + n,
            {
                "minutes": n * 97,
                "model": "b",
                "status": "ok",
                "customer": "acme",
                "user": f"u{n % 3}",
                "prompt_tokens": n,
                "completion_tokens": 1,
                "cost": None if n % 4 == 0 else 0.01 * n,
            },
        )
        for n in range(40)
    ]
    parsed = ParsedCalls(source="test", calls=imported, problems=[])
    outcome = import_parsed(store, parsed, prices=lambda _model, _ts: None)
    assert outcome.added == 40
    assert_rollups_exact(store.read())
    unpriced = store.read().execute("SELECT sum(unpriced) FROM rollup_daily").fetchone()[0]
    assert unpriced == 10


def test_an_update_inside_a_purge_window_moves_the_call_between_rows(store: Store) -> None:
    write(
        store,
        [
            as_call(
                0, {"minutes": 5, "model": "a", "status": "ok", "feature": "chat", "cost": 1.0}
            ),
            as_call(
                1, {"minutes": 6, "model": "a", "status": "ok", "feature": "chat", "cost": 2.0}
            ),
        ],
    )

    def change(db: Any) -> None:
        open_purge_window(db, "test")
        db.execute("UPDATE calls SET feature = 'search', cost = NULL, ts = ? WHERE id = 1",
                   [to_iso(START + timedelta(days=2))])  # fmt: skip
        db.execute("DELETE FROM purge_window")

    store.write(change)
    assert_rollups_exact(store.read())
    rows = (
        store.read()
        .execute("SELECT day, feature, calls, cost, unpriced FROM rollup_daily ORDER BY day")
        .fetchall()
    )
    assert rows == [("2025-03-01", "chat", 1, 2.0, 0), ("2025-03-03", "search", 1, 0.0, 1)]


def test_the_migration_back_fills_a_log_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o600)
    db = connect(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db, stop_before="m004_daily_rollups")
    db.close()
    calls = [
        as_call(
            n,
            {
                "minutes": n * 61,
                "model": "m" + str(n % 2),
                "status": "ok",
                "feature": ("chat", None)[n % 2],
                "user": f"u{n % 5}",
                "cost": n / 100,
            },
        )
        for n in range(200)
    ]
    old = Store(path)
    key = load_chain_key(database_id(old.read()))
    # Sealed as the llmbench of that schema did: form 1, with no form record.
    old.write(lambda db: insert_sealed(db, seal_calls(key, (0, GENESIS), calls)[0]))
    assert (
        not old.read().execute("SELECT 1 FROM sqlite_master WHERE name = 'rollup_daily'").fetchone()
    )
    old.close()
    with open_db(path) as store:
        assert_rollups_exact(store.read())
        assert store.read().execute("SELECT sum(calls) FROM rollup_daily_user").fetchone()[0] == 200
        write(store, [as_call(500, {"minutes": 1, "model": "m0", "status": "ok"})])
        assert_rollups_exact(store.read())


def test_filtering_by_user_uses_its_index(store: Store) -> None:
    plan = (
        store.read()
        .execute(
            "EXPLAIN QUERY PLAN SELECT id FROM calls WHERE user = ? AND ts >= ?", ["u1", "2025"]
        )
        .fetchall()
    )
    assert any("calls_user_ts" in str(row) for row in plan)


@pytest.mark.parametrize(
    ("columns", "filters", "table"),
    [
        (["feature", "model"], {}, "rollup_daily"),
        (["model"], {"status": "ok"}, "rollup_daily"),
        (["day"], {}, "rollup_daily"),
        (["customer", "model"], {}, "rollup_daily_customer"),
        ([], {"customer": "acme"}, "rollup_daily_customer"),
        ([], {}, "rollup_daily"),
        (["user"], {}, "rollup_daily_user"),
        (["user"], {"feature": "chat"}, None),
        (["customer"], {"user": "u1"}, None),
    ],
)
def test_a_covering_rollup_is_chosen(
    columns: list[str], filters: dict[str, str], table: str | None
) -> None:
    assert costs_repo.rollup_table(columns, filters) == table


WINDOWS = [
    ("2025-03-01T00:00:00.000Z", "2025-03-05T00:00:00.000Z"),
    ("2025-03-01T03:00:00.000Z", "2025-03-04T20:00:00.000Z"),
    ("2025-03-01T15:30:00.000Z", "2025-03-04T05:00:00.000Z"),
    ("2025-03-02T12:00:00.000Z", "2025-03-03T12:00:00.000Z"),
    ("2025-03-02T12:00:00.000Z", "2025-03-02T13:00:00.000Z"),
]


def _spread(store: Store) -> None:
    write(
        store,
        [
            as_call(
                n,
                {
                    "minutes": n * 29,
                    "model": ("a", "b")[n % 2],
                    "status": "ok",
                    "feature": ("chat", None, "search")[n % 3],
                    "customer": f"c{n % 4}",
                    "user": f"u{n % 7}",
                    "cost": 0.001 * n,
                    "prompt_tokens": n,
                },
            )
            for n in range(4 * 24 * 2)
        ],
    )


@pytest.mark.parametrize(("since", "until"), WINDOWS)
@pytest.mark.parametrize("columns", [["feature", "model"], ["customer"], ["user"], ["day"]])
def test_breakdowns_from_rollups_equal_a_scan_of_calls(
    store: Store, since: str, until: str, columns: list[str]
) -> None:
    _spread(store)
    costs_cache.forget(store)

    def summed(rows: list[costs_repo.GroupedRow]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        out: dict[tuple[Any, ...], list[float]] = {}
        for row in rows:
            held = out.setdefault((row.keys, row.day), [0, 0, 0.0, 0])
            held[0] += row.calls
            held[1] += row.prompt_tokens
            held[2] += row.cost
            held[3] += row.unpriced
        return {key: tuple(pytest.approx(v) for v in value) for key, value in out.items()}

    direct = costs_repo.grouped(store.read(), columns, since, until)
    assert summed(costs_cache.grouped(store, columns, since, until)) == summed(direct)


@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_monitor_counts_from_rollups_equal_a_count_of_calls(
    store: Store, since: str, until: str
) -> None:
    _spread(store)
    db = store.read()
    direct = db.execute(
        "SELECT count(*) FROM calls WHERE ts >= ? AND ts < ?", [since, until]
    ).fetchone()[0]
    assert monitor_repo._count(db, since, until) == direct


def test_the_rollup_tables_are_in_the_schema(store: Store) -> None:
    names = {row[0] for row in store.read().execute("SELECT name FROM sqlite_master").fetchall()}
    for table in ROLLUP_TABLES:
        assert {table, f"{table}_key", f"{table}_insert", f"{table}_delete"} <= names
