"""Rubric files, queue strategies, the key-by-key session, agreement and export, on real
SQLite files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmbench.core.grading.rubrics import RubricError
from llmbench.services.grading.agreement import agreement_report
from llmbench.services.grading.export import export_grades
from llmbench.services.grading.queues import QueueSpec, build_queue
from llmbench.services.grading.rubrics import import_rubric, load_rubric_file
from llmbench.services.grading.session import Delete, GradingSession, Write
from llmbench.store.db import Store, open_db
from llmbench.store.grading import grades as grades_repo
from llmbench.store.grading.grades import NewGrade, insert_grade
from tests.support.traffic import add_thumbs, daily_calls, write_calls

RUBRIC_TOML = """
name = "support"
description = "Support replies"

[[dimensions]]
name = "relevance"
description = "Addresses the ask?"
levels = ["Off topic", "Partial", "Spot on"]
examples = { 3 = "Refunds the duplicate." }

[[dimensions]]
name = "safe"
scale = "pass-fail"
"""

RUBRIC_YAML = """
name: tone
dimensions:
  - name: warmth
    scale: 1-5
    levels:
      - {label: Rude, example: "Read the manual."}
      - Cold
      - Neutral
      - Warm
      - {label: Exemplary, key: "x"}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "grading.db") as opened:
        yield opened


def _rubric(store: Store, tmp_path: Path) -> int:
    path = tmp_path / "support.toml"
    path.write_text(RUBRIC_TOML)
    return import_rubric(store, path)


def _run(
    store: Store, outputs: list[tuple[str, int, str]], failed: set[int] = frozenset()
) -> list[int]:
    """A run with one result per (model, case number, output); returns result ids."""

    def job(db) -> list[int]:
        db.execute("INSERT INTO datasets (name, created_at) VALUES ('d', 'now')")
        for case in sorted({case for _, case, _ in outputs}):
            db.execute(
                "INSERT INTO cases (id, dataset_id, vars, created_at) VALUES (?, 1, ?, 'now')",
                [case, json.dumps({"question": f"q{case}"})],
            )
        run_id = db.execute(
            "INSERT INTO runs (kind, name, created_at) VALUES ('compare', 'r', 'now')"
        ).lastrowid
        ids = []
        for index, (model, case, output) in enumerate(outputs):
            ids.append(
                db.execute(
                    "INSERT INTO results (run_id, model, case_id, output, status, created_at)"
                    " VALUES (?, ?, ?, ?, 'ok', 'now')",
                    [run_id, model, case, output],
                ).lastrowid
            )
            if index in failed:
                db.execute(
                    "INSERT INTO checks (result_id, kind, passed, created_at)"
                    " VALUES (?, 'regex', 0, 'now')",
                    [ids[-1]],
                )
        return ids

    return store.write(job)


def test_rubric_files_in_toml_and_yaml(store: Store, tmp_path: Path) -> None:
    rubric_id = _rubric(store, tmp_path)
    rubric = grades_repo.grading_rubric(store.read(), rubric_id)
    assert rubric is not None
    relevance, safe = rubric.dimensions
    assert [(lv.score, lv.key) for lv in relevance.levels] == [(1, "1"), (2, "2"), (3, "3")]
    assert relevance.levels[2].example == "Refunds the duplicate." and relevance.ordinal
    assert [(lv.score, lv.label, lv.key) for lv in safe.levels] == [
        (0, "fail", "0"),
        (1, "pass", "1"),
    ]
    assert not safe.ordinal
    yaml_path = tmp_path / "tone.yaml"
    yaml_path.write_text(RUBRIC_YAML)
    tone = load_rubric_file(yaml_path)
    warmth = tone.dimensions[0]
    assert warmth.levels[0].example == "Read the manual." and warmth.level_for_key("x").score == 5
    with pytest.raises(ValueError, match="exists"):
        _rubric(store, tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[dimensions]]\nname = "d"\nscale = "5-1"\n')
    with pytest.raises(RubricError, match=r"bad\.toml.*backwards"):
        load_rubric_file(bad)
    bad.write_text('name = "x"\n')
    with pytest.raises(RubricError, match="dimensions"):
        load_rubric_file(bad)


def _seed_grade(store: Store, rubric_id: int, result_id: int, reviewer: str, **scores: int) -> None:
    store.write(
        lambda db: insert_grade(
            db, NewGrade(rubric_id, reviewer, scores, verdict="pass", result_id=result_id)
        )
    )


def test_queue_puts_failures_then_disagreements_first_and_leaves_out_my_grades(
    store: Store, tmp_path: Path
) -> None:
    rubric_id = _rubric(store, tmp_path)
    ids = _run(store, [("m1", 1, "a"), ("m1", 2, "b"), ("m2", 1, "c"), ("m2", 2, "d")], {3})
    _seed_grade(store, rubric_id, ids[0], "me", relevance=3, safe=1)
    _seed_grade(store, rubric_id, ids[1], "ann", relevance=3, safe=1)
    _seed_grade(store, rubric_id, ids[1], "bob", relevance=1, safe=0)
    queue = build_queue(store, rubric_id, "me")
    assert [e.key for e in queue.entries] == [f"result:{i}" for i in (ids[3], ids[1], ids[2])]
    assert queue.reasons[f"result:{ids[3]}"] == "failed checks"
    assert queue.reasons[f"result:{ids[1]}"] == "disagreement"
    assert queue.graded_before == 1
    everything = build_queue(
        store, rubric_id, "me", spec=QueueSpec(only_ungraded=False, failed_first=False,
                                               disagreements_first=False, stratify=True)
    )  # fmt: skip
    # Stratified: m1, m2, m1, m2.
    assert [e.model for e in everything.entries] == ["m1", "m2", "m1", "m2"]
    only = build_queue(store, rubric_id, "me", spec=QueueSpec(only_disagreements=True))
    assert [e.key for e in only.entries] == [f"result:{ids[1]}"]


def test_production_share_samples_the_same_calls_for_the_same_seed(
    store: Store, tmp_path: Path
) -> None:
    rubric_id = _rubric(store, tmp_path)
    _run(store, [("m1", 1, "a")])
    _seed_grade(store, rubric_id, 1, "ann", relevance=2, safe=1)
    call_ids = write_calls(
        store, daily_calls(datetime(2025, 6, 1, tzinfo=UTC), days=4, per_day=100)
    )
    add_thumbs(store, call_ids[1:3], up_share=0.0)  # two thumbs down: flagged, always in
    flagged_only = build_queue(store, rubric_id, "me")
    assert [e.key for e in flagged_only.entries if e.kind == "call"] == [
        f"call:{call_ids[1]}",
        f"call:{call_ids[2]}",
    ]
    assert flagged_only.reasons[f"call:{call_ids[1]}"] == "flagged"
    spec = QueueSpec(production_share=0.25)
    first = build_queue(store, rubric_id, "me", spec=spec, seed=11)
    again = build_queue(store, rubric_id, "me", spec=spec, seed=11)
    other = build_queue(store, rubric_id, "me", spec=spec, seed=12)
    sampled = [e.key for e in first.entries if e.kind == "call"]
    assert sampled == [e.key for e in again.entries if e.kind == "call"]
    assert sampled != [e.key for e in other.entries if e.kind == "call"]
    assert 60 <= len(sampled) <= 140  # a quarter of ~392 successful calls, give or take


def test_session_keys_write_undo_and_time(store: Store, tmp_path: Path) -> None:
    rubric_id = _rubric(store, tmp_path)
    _run(store, [("m1", 1, "a"), ("m1", 2, "b"), ("m1", 3, "c")])
    clock = Clock()
    session = GradingSession(build_queue(store, rubric_id, "me"), clock=clock)
    assert session.level("9") == []  # not a level of this dimension
    clock.now += 5
    assert session.level("3") == [] and session.active_dimension.name == "safe"
    session.verdict("pass")
    clock.now += 7
    [write] = session.level("1")
    assert isinstance(write, Write) and session.position == 1
    assert write.grade.scores == {"relevance": 3, "safe": 1} and write.grade.verdict == "pass"
    assert write.grade.seconds == 12.0
    store.write(lambda db: insert_grade(db, write.grade, write.handle))
    session.skip()
    session.level("2")
    assert session.draft().scores == {"relevance": 2}
    [delete] = next(e for e in (session.undo(), session.undo(), session.undo()) if e)
    assert isinstance(delete, Delete) and session.position == 0
    store.write(lambda db: grades_repo.delete_grade(db, delete.handle))
    assert store.read().execute("SELECT count(*) FROM grades").fetchone()[0] == 0
    assert session.draft().scores == {"relevance": 3}
    progress = session.progress()
    assert (progress.done, progress.total) == (0, 3)
    clock.now += 60
    writes = session.level("0") + session.level("1") + session.level("1")
    # The second item has every dimension but no verdict: it waits for y / n, on that item.
    assert len(writes) == 1 and session.awaiting_verdict and session.position == 1
    writes += session.verdict("fail")
    assert [w.grade.verdict for w in writes] == ["pass", "fail"] and session.position == 2
    assert session.progress().done == 0  # counted once the writer says they landed
    for write in writes:
        session.landed(write.key, write.handle)
    assert session.progress().done == 2 and session.progress().per_minute is not None
    session.refused(writes[1].key, writes[1].handle)  # the file said no: ungraded again
    assert session.progress().done == 1
    assert session.draft(session.entries[1]).scores == {"relevance": 1, "safe": 1}


def test_pairwise_records_canonical_verdicts(store: Store, tmp_path: Path) -> None:
    rubric_id = _rubric(store, tmp_path)
    ids = _run(store, [("m1", 1, "a"), ("m2", 1, "b"), ("m1", 2, "c"), ("m2", 2, "d")])
    queue = build_queue(store, rubric_id, "me", "pairwise", seed=3)
    assert {(e.a.id, e.b.id) for e in queue.entries} == {(ids[0], ids[1]), (ids[2], ids[3])}
    session = GradingSession(queue)
    pair = session.current
    [write] = session.prefer("left")
    assert write.grade.verdict == ("a" if pair.left_is_a else "b")
    assert write.grade.scores == {"pair_a": pair.a.id, "pair_b": pair.b.id, "left": pair.left.id}
    assert write.grade.mode == "pairwise" and write.grade.result_id == pair.a.id
    [tie] = session.prefer("tie")
    assert tie.grade.verdict == "tie"


def test_agreement_report_and_export(store: Store, tmp_path: Path) -> None:
    rubric_id = _rubric(store, tmp_path)
    ids = _run(store, [("m1", n, f"o{n}") for n in range(1, 7)])
    ann = [3, 3, 2, 1, 2, 3]
    bob = [3, 2, 2, 1, 1, 3]
    for result_id, a, b in zip(ids, ann, bob, strict=True):
        _seed_grade(store, rubric_id, result_id, "ann", relevance=a, safe=1)
        _seed_grade(store, rubric_id, result_id, "bob", relevance=b, safe=1)
    # A later regrade replaces ann's first grade.
    _seed_grade(store, rubric_id, ids[1], "ann", relevance=2, safe=1)
    report = agreement_report(store, rubric_id)
    relevance = report.dimensions[0]
    assert relevance.items == 6 and relevance.percent == pytest.approx(5 / 6)
    assert relevance.kappas[0].first == "ann" and relevance.kappas[0].items == 6
    assert report.disagreements[0][0] == f"result:{ids[4]}"
    csv_path, jsonl_path = tmp_path / "g.csv", tmp_path / "g.jsonl"
    assert export_grades(store, csv_path) == 13
    rows = list(csv.DictReader(csv_path.open()))
    assert rows[0]["rubric"] == "support" and rows[0]["score_relevance"] == "3"
    assert export_grades(store, jsonl_path, fmt="jsonl", rubric="support") == 13
    first = json.loads(jsonl_path.read_text().splitlines()[0])
    assert first["scores"] == {"relevance": 3, "safe": 1} and first["reviewer"] == "ann"
    with pytest.raises(LookupError):
        export_grades(store, csv_path, rubric="nope")
