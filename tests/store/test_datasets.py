"""The datasets repository: counts, editing cases with their checks, and deletes refused while
results point at a case or cases remain in a dataset."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.store import datasets
from llmbench.store.datasets import DatasetError
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.prompts import versions as prompts


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "datasets.db") as opened:
        yield opened


def _dataset(store: Store, name: str, *cases: datasets.NewCase) -> tuple[int, list[int]]:
    def job(db):
        dataset_id = datasets.create_dataset(db, name, description=f"{name} cases")
        return dataset_id, datasets.add_cases(db, dataset_id, cases)

    return store.write(job)


def test_a_new_file_gives_cases_a_checks_column_of_valid_json(store: Store) -> None:
    columns = {row[1]: row for row in store.read().execute("PRAGMA table_info(cases)")}
    assert columns["checks"][2] == "TEXT" and columns["checks"][3] == 1  # NOT NULL
    _, [case_id] = _dataset(store, "d", datasets.NewCase({"x": "1"}))
    assert datasets.get_case(store.read(), case_id).checks == ()
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.write(
            lambda db: db.execute("UPDATE cases SET checks = 'nope' WHERE id = ?", [case_id])
        )


def test_list_datasets_counts_cases_by_name(store: Store) -> None:
    _dataset(store, "tickets", datasets.NewCase({"t": "a"}), datasets.NewCase({"t": "b"}))
    _dataset(store, "empty")
    rows = datasets.list_datasets(store.read())
    assert [(row.name, row.cases, row.description) for row in rows] == [
        ("empty", 0, "empty cases"),
        ("tickets", 2, "tickets cases"),
    ]
    assert rows[1].created_at


def test_update_case_replaces_vars_expected_tags_and_checks(store: Store) -> None:
    _, [case_id] = _dataset(store, "d", datasets.NewCase({"t": "a"}, "old", {"task_type": "x"}))
    check = {"kind": "icontains", "value": "refund"}
    store.write(
        lambda db: datasets.update_case(
            db, case_id, vars={"t": "é ☃"}, expected=None, tags={"difficulty": "hard"},
            checks=[check],
        )
    )  # fmt: skip
    case = datasets.get_case(store.read(), case_id)
    assert case.vars == {"t": "é ☃"} and case.expected is None
    assert case.tags == {"difficulty": "hard"} and case.checks == (check,)
    with pytest.raises(DatasetError, match="no case with id 999"):
        store.write(
            lambda db: datasets.update_case(db, 999, vars={}, expected=None, tags={}, checks=[])
        )


def test_a_case_with_results_is_kept_and_one_without_is_deleted(store: Store) -> None:
    dataset_id, [used, unused] = _dataset(
        store, "d", datasets.NewCase({"t": "a"}), datasets.NewCase({"t": "b"})
    )

    def run(db):
        prompt_id = prompts.create_prompt(db, "p")
        version = prompts.add_version(db, prompt_id, {"task": "{{ t }}"})
        run_id = runs.create_run(db, "eval", name="r")
        runs.add_results(db, run_id, [runs.NewResult(version, "m", used, None, "out", "ok")])

    store.write(run)
    with pytest.raises(DatasetError, match=r"case \d+ has 1 result in runs; it is kept"):
        store.write(lambda db: datasets.delete_case(db, used))
    store.write(lambda db: datasets.delete_case(db, unused))
    assert [case.id for case in datasets.list_cases(store.read(), dataset_id)] == [used]
    with pytest.raises(DatasetError, match="no case"):
        store.write(lambda db: datasets.delete_case(db, unused))


def test_rename_describe_and_delete_only_an_empty_dataset(store: Store) -> None:
    full, _ = _dataset(store, "full", datasets.NewCase({"t": "a"}))
    empty, _ = _dataset(store, "empty")
    with pytest.raises(DatasetError, match="'full' already exists"):
        store.write(lambda db: datasets.rename_dataset(db, empty, "full"))
    with pytest.raises(DatasetError, match="already exists"):
        store.write(lambda db: datasets.create_dataset(db, "full"))
    store.write(lambda db: datasets.rename_dataset(db, empty, "spare"))
    store.write(lambda db: datasets.describe_dataset(db, empty, "for later"))
    row = datasets.get_dataset(store.read(), empty)
    assert (row.name, row.description) == ("spare", "for later")
    with pytest.raises(DatasetError, match="'full' has 1 case; only an empty dataset"):
        store.write(lambda db: datasets.delete_dataset(db, full))
    store.write(lambda db: datasets.delete_dataset(db, empty))
    assert [row.name for row in datasets.list_datasets(store.read())] == ["full"]


def test_ensure_dataset_finds_or_makes_one(store: Store) -> None:
    first = store.write(lambda db: datasets.ensure_dataset(db, "grown", description="d"))
    again = store.write(lambda db: datasets.ensure_dataset(db, "grown"))
    assert first[1] is True and again == (first[0], False)
