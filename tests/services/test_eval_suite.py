"""A suite made runnable: refs resolved, inline prompts and tests saved once, the plan built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.gateway.client import shutdown_sync
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo

SUITE = """\
name: tickets
prompts:
  - support-reply@production
  - support-reply@1
  - name: short-reply
    text: "Briefly: {{ ticket }}"
models: [llmbench/echo]
dataset: saved
tests:
  - vars: {ticket: one}
    checks: [{type: contains, value: one}]
  - vars: {ticket: two}
    expected: "2"
checks: [{type: length, max: 500}]
judge: {model: llmbench/mock}
repeat: 2
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "suite.db") as opened:
        yield opened
    shutdown_sync()


def _seed(store: Store) -> list[int]:
    def job(db: Any) -> list[int]:
        prompt = prompts_repo.create_prompt(db, "support-reply")
        first = prompts_repo.add_version(db, prompt, {"task": "Ticket: {{ ticket }}"})
        second = prompts_repo.add_version(db, prompt, {"task": "Hi. Ticket: {{ ticket }}"})
        prompts_repo.set_label(db, prompt, "production", second, moved_by="test")
        dataset = datasets.create_dataset(db, "saved")
        datasets.add_cases(db, dataset, [datasets.NewCase({"ticket": "saved one"})])
        return [first, second]

    return store.write(job)


def test_a_suite_becomes_a_plan_and_saves_what_it_defines_once(
    store: Store, tmp_path: Path
) -> None:
    first, second = _seed(store)
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE, encoding="utf-8")
    prepared = prepare_suite(store, path)
    plan = prepared.plan
    assert plan.version_ids[:2] == (second, first)
    assert list(prepared.labels.values()) == ["support-reply@2", "support-reply@1", "short-reply@1"]
    assert prepared.saved_versions == ("short-reply",) and prepared.new_cases == 2
    assert (plan.models, plan.repeats, plan.judge_model, plan.source) == (
        ("llmbench/echo",),
        2,
        "llmbench/mock",
        str(path),
    )
    assert len(plan.case_ids) == 3
    inline_one = plan.case_ids[1]
    assert plan.case_checks == {inline_one: ({"kind": "contains", "value": "one"},)}
    assert plan.checks == ({"kind": "length", "max": 500},)

    again = prepare_suite(store, path, concurrency=3)
    assert again.plan.case_ids == plan.case_ids and again.plan.version_ids == plan.version_ids
    assert (again.saved_versions, again.new_cases, again.plan.concurrency) == ((), 0, 3)

    path.write_text(SUITE.replace("Briefly:", "In short:"), encoding="utf-8")
    changed = prepare_suite(store, path)
    assert changed.saved_versions == ("short-reply",)
    assert changed.labels[changed.plan.version_ids[2]] == "short-reply@2"


def test_unknown_names_are_reported_with_their_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "prompts:\n  - nope@production\n  - name: x\n    text: '{{ broken'\ndataset: missing\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as error:
        prepare_suite(store, path)
    problems = [str(problem) for problem in error.value.problems]
    assert problems[0] == f"{path}:2: no prompt named 'nope'"
    assert problems[1].startswith(f"{path}:3: prompt 'x': ")
    assert problems[2] == f"{path}:5: no dataset named 'missing'"
    assert store.read().execute("SELECT count(*) FROM prompts").fetchone()[0] == 0
