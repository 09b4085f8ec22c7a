from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.core.costs.pricing import DatedPrice
from llmbench.core.models import Price, Usage, Variable
from llmbench.store import datasets
from llmbench.store.audit import calls, search_index
from llmbench.store.audit.log import append_calls
from llmbench.store.costs import prices
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.grading import grades
from llmbench.store.prompts import versions as prompts


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "repo.db") as opened:
        yield opened


def _call(n: int, text: str = "hello") -> dict[str, object]:
    return {
        "ts": f"2026-01-01T00:00:{n:02d}.000Z",
        "request_id": f"req-{n}",
        "model_requested": "gpt-4o-mini",
        "model": "gpt-4o-mini",
        "messages": json.dumps([{"role": "user", "content": text}]),
        "response": f"answer {n}",
        "status": "ok",
    }


def test_versions_number_themselves_and_keep_their_parent(store: Store) -> None:
    def job(db):
        prompt_id = prompts.create_prompt(db, "greeter", description="says hi", tags=["demo"])
        first = prompts.add_version(
            db, prompt_id, {"task": "Hi {{ name }}"}, variables=[Variable("name")]
        )
        second = prompts.add_version(
            db,
            prompt_id,
            {"task": "Hello {{ name }}"},
            variables=[Variable("name")],
            model="gpt-4o",
            params={"temperature": 0.2},
            author="ana",
            message="warmer",
            parent_id=first,
        )
        return prompt_id, first, second

    prompt_id, first, second = store.write(job)
    db = store.read()
    assert prompts.get_prompt(db, "greeter").tags == ("demo",)
    versions = prompts.list_versions(db, prompt_id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].id == second and versions[1].parent_id == first
    assert versions[1].params == {"temperature": 0.2}
    assert versions[1].sections == {"task": "Hello {{ name }}"}
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        store.write(lambda db: db.execute("UPDATE prompt_versions SET message = 'x'"))


def test_a_parent_must_be_a_version_of_the_same_prompt(store: Store) -> None:
    def job(db):
        one = prompts.create_prompt(db, "one")
        other = prompts.create_prompt(db, "other")
        foreign = prompts.add_version(db, other, {"task": "x"})
        prompts.add_version(db, one, {"task": "y"}, parent_id=foreign)

    with pytest.raises(prompts.PromptError, match="another prompt"):
        store.write(job)
    assert store.read()["prompts"].count == 0  # the failed job left nothing behind


def test_moving_a_label_records_where_it_came_from(store: Store) -> None:
    def job(db):
        prompt_id = prompts.create_prompt(db, "p")
        v1 = prompts.add_version(db, prompt_id, {"task": "a"})
        v2 = prompts.add_version(db, prompt_id, {"task": "b"}, parent_id=v1)
        prompts.set_label(db, prompt_id, "production", v1, moved_by="ana", moved_at="2026-01-01")
        prompts.set_label(db, prompt_id, "production", v2, moved_by="ben", moved_at="2026-01-02")
        prompts.set_label(db, prompt_id, "production", v1, moved_by="ana", moved_at="2026-01-03")
        return prompt_id, v1, v2

    prompt_id, v1, v2 = store.write(job)
    db = store.read()
    assert prompts.labels(db, prompt_id) == {"production": v1}
    moves = db.execute(
        "SELECT from_version_id, to_version_id, moved_by FROM label_moves ORDER BY id"
    ).fetchall()
    assert moves == [(None, v1, "ana"), (v1, v2, "ben"), (v2, v1, "ana")]


def test_a_label_cannot_point_at_another_prompts_version(store: Store) -> None:
    def job(db):
        one = prompts.create_prompt(db, "one")
        other = prompts.create_prompt(db, "other")
        foreign = prompts.add_version(db, other, {"task": "x"})
        prompts.set_label(db, one, "production", foreign)

    with pytest.raises(prompts.PromptError):
        store.write(job)


def test_notes_have_a_known_kind(store: Store) -> None:
    def job(db):
        prompt_id = prompts.create_prompt(db, "p")
        version = prompts.add_version(db, prompt_id, {"task": "a"})
        return prompts.add_note(db, prompt_id, "lesson", "be brief", version_id=version)

    note_id = store.write(job)
    assert store.read()["prompt_notes"].get(note_id)["kind"] == "lesson"
    with pytest.raises(prompts.PromptError, match="unknown note kind"):
        store.write(lambda db: prompts.add_note(db, 1, "gossip", "x"))


def test_datasets_keep_cases_with_vars_expected_and_tags(store: Store) -> None:
    def job(db):
        dataset_id = datasets.create_dataset(db, "tickets")
        datasets.add_cases(
            db,
            dataset_id,
            [
                datasets.NewCase({"ticket": "refund me"}, "refunded", {"difficulty": "easy"}),
                datasets.NewCase({"ticket": "login"}, None, {}, source="import"),
            ],
        )
        return dataset_id

    dataset_id = store.write(job)
    db = store.read()
    assert datasets.dataset_id(db, "tickets") == dataset_id
    cases = datasets.list_cases(db, dataset_id)
    assert [c.vars["ticket"] for c in cases] == ["refund me", "login"]
    assert cases[0].expected == "refunded" and cases[0].tags == {"difficulty": "easy"}
    assert cases[1].source == "import"
    with pytest.raises(ValueError, match="source"):
        store.write(lambda db: datasets.add_case(db, dataset_id, datasets.NewCase({}, source="x")))


def test_a_run_holds_one_result_per_cell_with_checks(store: Store) -> None:
    def job(db):
        prompt_id = prompts.create_prompt(db, "p")
        version = prompts.add_version(db, prompt_id, {"task": "a"})
        dataset_id = datasets.create_dataset(db, "d")
        case = datasets.add_case(db, dataset_id, datasets.NewCase({"x": "1"}))
        run_id = runs.create_run(db, "compare", name="r", config={"models": ["m"]})
        [call_id] = append_calls(db, KEY, [_call(1)])
        [result_id] = runs.add_results(
            db, run_id, [runs.NewResult(version, "m", case, call_id, "out", "ok", 1.0)]
        )
        runs.add_checks(
            db,
            [
                runs.NewCheck("contains", True, 1.0, "found", result_id=result_id),
                runs.NewCheck("max-length", False, 0.5, "too long", result_id=result_id),
            ],
        )
        runs.finish_run(db, run_id, "done", finished_at="2026-01-01T00:01:00.000Z")
        return run_id, version, case

    run_id, version, case = store.write(job)
    db = store.read()
    run = runs.get_run(db, run_id)
    assert run.status == "done" and run.finished_at == "2026-01-01T00:01:00.000Z"
    assert db.execute("SELECT kind, passed FROM checks ORDER BY id").fetchall() == [
        ("contains", 1),
        ("max-length", 0),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store.write(lambda db: runs.add_results(db, run_id, [runs.NewResult(version, "m", case)]))
    with pytest.raises(ValueError, match="kind"):
        store.write(lambda db: runs.create_run(db, "bake-off"))


KEY = b"test-chain-key-0123456789"


def test_insert_calls_appends_in_order_with_defaults(store: Store) -> None:
    ids = store.write(lambda db: append_calls(db, KEY, [_call(1), _call(2), _call(3)]))
    more = store.write(lambda db: append_calls(db, KEY, [_call(4)]))
    assert more == [ids[-1] + 1] and ids == sorted(ids)
    db = store.read()
    row = db["calls"].get(ids[0])
    assert row["attempt"] == 1 and row["guard_flags"] == "[]" and row["hash"] is not None
    assert calls.count_calls(db) == 4
    assert calls.call_ids_by_request(db, ["req-2", "req-9"]) == {("req-2", 1): ids[1]}
    first, last, cost = calls.call_window(db)
    assert (first, last, cost) == ("2026-01-01T00:00:01.000Z", "2026-01-01T00:00:04.000Z", 0.0)
    with pytest.raises(ValueError, match="missing model"):
        store.write(lambda db: append_calls(db, KEY, [{**_call(5), "model": None}]))
    with pytest.raises(ValueError, match="status"):
        store.write(lambda db: append_calls(db, KEY, [{**_call(5), "status": "fine"}]))


def test_deferred_search_index_indexes_the_block_inside_the_job(store: Store) -> None:
    def job(db):
        append_calls(db, KEY, [_call(1, "before the block")])
        with calls.deferred_search_index(db):
            append_calls(db, KEY, [_call(2, "zebra crossing"), _call(3, "zebra stripes")])
        # Searchable at once, inside the same job: indexed where the block ended.
        inside = db.execute("SELECT rowid FROM calls_fts WHERE calls_fts MATCH 'zebra'")
        found = sorted(row[0] for row in inside)
        append_calls(db, KEY, [_call(4, "zebra after the block")])
        return found

    assert store.write(job) == [2, 3]
    db = store.read()
    found = db.execute("SELECT rowid FROM calls_fts WHERE calls_fts MATCH 'zebra'").fetchall()
    assert sorted(row[0] for row in found) == [2, 3, 4]  # the rest by the batch's end
    assert (
        db.execute("SELECT count(*) FROM calls_fts WHERE calls_fts MATCH 'before'").fetchone()[0]
        == 1
    )
    assert search_index.indexed_through(db.conn) == 4
    db.execute("INSERT INTO calls_fts (calls_fts, rank) VALUES ('integrity-check', 1)")


def test_deferred_search_index_rolls_back_with_the_job(store: Store) -> None:
    def job(db):
        with calls.deferred_search_index(db):
            append_calls(db, KEY, [_call(1)])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store.write(job)
    db = store.read()
    assert db["calls"].count == 0
    assert search_index.indexed_through(db.conn) == 0
    with pytest.raises(RuntimeError, match="transaction"), calls.deferred_search_index(db):
        pass  # a reader's connection, outside any writer job


def test_grades_are_on_a_call_or_a_result(store: Store) -> None:
    dimensions = [{"name": "tone", "levels": ["bad", "ok", "good"], "description": "d"}]

    def job(db):
        rubric_id = grades.create_rubric(db, "helpfulness", dimensions, description="h")
        [call_id] = append_calls(db, KEY, [_call(1)])
        grades.add_grades(
            db, [grades.NewGrade(rubric_id, "ana", {"tone": 3}, "pass", call_id=call_id)]
        )
        return rubric_id

    rubric_id = store.write(job)
    db = store.read()
    rubric = grades.get_rubric(db, "helpfulness")
    assert rubric.id == rubric_id and rubric.dimensions[0].levels == ("bad", "ok", "good")
    assert json.loads(db["grades"].get(1)["scores"]) == {"tone": 3}
    with pytest.raises(ValueError, match="call or on a result"):
        store.write(lambda db: grades.add_grades(db, [grades.NewGrade(rubric_id, "ben")]))
    with pytest.raises(ValueError, match="at least one level"):
        store.write(lambda db: grades.create_rubric(db, "empty", [{"name": "x", "levels": []}]))


def test_prices_are_dated_and_load_into_a_price_table(store: Store) -> None:
    def job(db):
        prices.set_price(db, DatedPrice("m", "2024-01-01", Price(1.0, 2.0)), source="demo")
        prices.set_price(db, DatedPrice("m", "2025-01-01", Price(0.5, 1.0, 0.25)))
        prices.set_price(db, DatedPrice("m", "2025-01-01", Price(0.4, 1.0, 0.2)))
        prices.set_prices(db, prices.simulator_prices())

    store.write(job)
    table = prices.load_price_table(store.read())
    assert table.price("m", "2024-06-01") == Price(1.0, 2.0, 0.0)
    assert table.price("m", "2025-03-01") == Price(0.4, 1.0, 0.2)
    assert table.cost("m", Usage(1_000_000, 0), "2024-06-01") == pytest.approx(1.0)
    assert "llmbench/mock" in table.models()
