"""The Prompts pane's use cases on a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.core.models import Variable
from llmbench.services.prompts import library as prompts
from llmbench.services.prompts.library import Draft, PromptsError
from llmbench.store.audit.log import append_calls
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.grading import grades
from llmbench.store.prompts import versions as prompts_repo

KEY = b"test-chain-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "prompts.db") as opened:
        yield opened


def _first_version(store: Store, name: str = "triage", task: str = "Sort {{ ticket }}") -> int:
    prompt_id = prompts.create_prompt(store, name, description="Sorts tickets", tags=["support"])
    saved = prompts.save_version(
        store,
        prompt_id,
        Draft({"task": task}, (Variable("ticket", "untrusted", 500),), model="gpt-4o-mini"),
        author="maria",
        message="first",
        parent_id=None,
    )
    return saved.id


def test_saving_makes_the_next_version_and_keeps_the_parent(store: Store) -> None:
    first_id = _first_version(store)
    first = prompts.get_version(store, first_id)
    assert first is not None and first.version == 1
    draft = Draft.of(first)
    changed = Draft({**draft.sections, "role": "You sort support tickets for {{ team }}."},
                    draft.variables, draft.model, draft.params)  # fmt: skip
    second = prompts.save_version(
        store, first.prompt_id, changed, author="sam", message="add a role", parent_id=first_id
    )
    assert (second.version, second.parent_id, second.author) == (2, first_id, "sam")
    # Declared kinds survive; a newly used variable starts untrusted until declared otherwise.
    assert second.variables == (Variable("team", "untrusted"), Variable("ticket", "untrusted", 500))


def test_an_unchanged_or_broken_draft_is_refused(store: Store) -> None:
    first = prompts.get_version(store, _first_version(store))
    assert first is not None
    with pytest.raises(PromptsError, match="nothing changed since v1"):
        prompts.save_version(
            store, first.prompt_id, Draft.of(first), author="a", message="m", parent_id=first.id
        )
    with pytest.raises(PromptsError, match="does not parse"):
        prompts.save_version(
            store, first.prompt_id, Draft({"task": "{{ oops"}), author="a", message="m",
            parent_id=first.id,
        )  # fmt: skip
    with pytest.raises(PromptsError, match="message"):
        prompts.save_version(
            store, first.prompt_id, Draft({"task": "x"}), author="a", message=" ", parent_id=None
        )
    assert len(prompts.history(store, first.prompt_id).versions) == 1


def test_names_are_checked_and_unique(store: Store) -> None:
    prompts.create_prompt(store, "triage")
    with pytest.raises(PromptsError, match="already exists"):
        prompts.create_prompt(store, "triage")
    with pytest.raises(PromptsError, match="prompt name"):
        prompts.create_prompt(store, "../escape")


def test_rollback_moves_production_and_every_move_is_audited(store: Store) -> None:
    first_id = _first_version(store)
    first = prompts.get_version(store, first_id)
    assert first is not None
    second = prompts.save_version(
        store, first.prompt_id, Draft({"task": "Classify {{ ticket }}"}, first.variables),
        author="sam", message="reword", parent_id=first_id,
    )  # fmt: skip
    prompts.move_label(store, first.prompt_id, "production", second.id, moved_by="sam")
    assert prompts.move_label(store, first.prompt_id, "production", second.id, moved_by="x") is None
    move = prompts.move_label(store, first.prompt_id, "production", first_id, moved_by="maria")
    assert move is not None
    assert (move.label, move.from_version, move.to_version, move.moved_by) == (
        "production", 2, 1, "maria",
    )  # fmt: skip
    resolved = prompts_repo.resolve_version(store.read(), "triage", "production")
    assert resolved.id == first_id
    history = prompts.history(store, first.prompt_id)
    assert [(m.from_version, m.to_version) for m in history.moves] == [(2, 1), (None, 2)]
    assert history.versions[-1].labels == ("production",)
    with pytest.raises(PromptsError, match="label"):
        prompts.move_label(store, first.prompt_id, "Prod uction", first_id, moved_by="x")


def test_the_library_searches_names_descriptions_tags_and_notes(store: Store) -> None:
    first_id = _first_version(store)
    other = prompts.create_prompt(store, "summarise-thread", description="Summaries for agents")
    prompts.add_note(
        store, other, "model-quirk", "Haiku drops the sign-off under 200 tokens",
        version_id=None, author="sam",
    )  # fmt: skip
    names = lambda query: [row.name for row in prompts.library(store, query)]  # noqa: E731
    assert names("") == ["summarise-thread", "triage"]
    assert names("triage") == ["triage"]
    assert names("SUPPORT") == ["triage"]  # a tag, any case
    assert names("haiku sign-off") == ["summarise-thread"]  # every word, from a note
    assert names("tickets") == ["triage"]  # the description
    assert names("triage haiku") == []
    assert names("100%") == []  # LIKE wildcards are literal
    row = prompts.library(store, "triage")[0]
    assert (row.versions, row.production, row.latest_author) == (1, None, "maria")
    assert prompts.history(store, first_id + 999) is None


def test_version_figures_come_from_calls_results_and_grades(store: Store) -> None:
    version_id = _first_version(store)
    calls = [
        {
            "ts": f"2026-01-01T00:00:{n:02d}.000Z",
            "request_id": f"r{n}",
            "model_requested": "gpt-4o-mini",
            "model": "gpt-4o-mini",
            "prompt_version_id": version_id,
            "prompt_tokens": 100 + n,
            "completion_tokens": 20,
            "cost": 0.001,
            "latency_ms": 100.0 * n,
            "status": "ok" if n <= 10 else "error",
        }
        for n in range(1, 13)
    ]

    def job(db: object) -> None:
        call_ids = append_calls(db, KEY, calls)
        run_id = runs.create_run(db, "eval")
        result_ids = runs.add_results(
            db,
            run_id,
            [
                runs.NewResult(version_id, "gpt-4o-mini", None, status="ok", repeat=i)
                for i in range(4)
            ],
        )
        runs.add_checks(
            db,
            [
                runs.NewCheck("contains", passed=i != 0, result_id=r)
                for i, r in enumerate(result_ids)
            ]
            + [runs.NewCheck("json", passed=i != 1, result_id=r) for i, r in enumerate(result_ids)],
        )
        rubric = grades.create_rubric(db, "helpful", [{"name": "help", "levels": ["1", "2", "3"]}])
        grades.add_grades(
            db,
            [
                grades.NewGrade(rubric, "maria", {"help": 3}, result_id=result_ids[0]),
                grades.NewGrade(rubric, "sam", {"help": 2}, call_id=call_ids[0]),
                grades.NewGrade(rubric, "sam", verdict="pass", call_id=call_ids[1]),
            ],
        )

    store.write(job)
    view = prompts.version_view(store, version_id)
    assert view is not None
    metrics = view.metrics
    assert (metrics.calls, metrics.ok_calls) == (12, 10)
    assert metrics.mean_prompt_tokens == pytest.approx(105.5)
    assert metrics.mean_completion_tokens == 20
    assert (metrics.p50_ms, metrics.p95_ms) == (500.0, 1000.0)
    assert metrics.cost_per_call == pytest.approx(0.001)
    assert (metrics.checked, metrics.passed, metrics.pass_rate) == (4, 2, 0.5)
    assert metrics.grades == 3
    assert metrics.mean_grade == pytest.approx(2.5)
    assert metrics.error_rate == pytest.approx(2 / 12)
    assert json.loads(json.dumps(view.version.sections)) == {"task": "Sort {{ ticket }}"}
