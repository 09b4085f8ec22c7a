"""Dataset use cases on a real database file: promoting results to cases, all-or-nothing imports,
exports that import back the same, and the case form's text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmbench.services import datasets as service
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.evaluation import runs
from llmbench.store.prompts import versions as prompts


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "svc.db") as opened:
        yield opened


CHECK = {"kind": "icontains", "value": "refund"}


def _results(store: Store) -> dict[str, int]:
    """A run with a result on a case (with a call) and one without a case."""

    def job(db) -> dict[str, int]:
        dataset = datasets.create_dataset(db, "tickets")
        case = datasets.add_case(
            db,
            dataset,
            datasets.NewCase(
                {"ticket": "charged twice"}, "refund", {"task_type": "billing"}, checks=[CHECK]
            ),
        )
        version = prompts.add_version(db, prompts.create_prompt(db, "reply"), {"task": "{{t}}"})
        run = runs.create_run(db, "eval", name="r")
        db.execute(
            "INSERT INTO calls (ts, request_id, model_requested, model, status)"
            " VALUES ('2026-01-01T00:00:00.000Z', 'req', 'm', 'm', 'ok')"
        )
        call = db.execute("SELECT max(id) FROM calls").fetchone()[0]
        on_case, adhoc = runs.add_results(
            db,
            run,
            [
                runs.NewResult(version, "m", case, call, "Sorry, no.", "ok"),
                runs.NewResult(version, "m", None, None, "hello", "ok"),
            ],
        )
        return {"run": run, "case": case, "call": call, "on_case": on_case, "adhoc": adhoc}

    return store.write(job)


def test_promote_result_makes_a_tagged_case_in_a_new_dataset(store: Store) -> None:
    ids = _results(store)
    done = service.promote_result(store, ids["on_case"], "regressions", "apologises, no refund")
    assert done.dataset == "regressions" and done.created_dataset
    case = datasets.get_case(store.read(), done.case_id)
    assert case.vars == {"ticket": "charged twice"} and case.expected == "refund"
    assert case.tags == {
        "task_type": "billing",
        "promoted_from": f"run {ids['run']}",
        "failure_mode": "apologises, no refund",
    }
    assert case.checks == (CHECK,) and case.source == "promoted-from-call"
    source_call = store.read().execute(
        "SELECT source_call_id FROM cases WHERE id = ?", [done.case_id]
    )
    assert source_call.fetchone()[0] == ids["call"]
    again = service.promote_result(store, ids["on_case"], "regressions", output_as_expected=True)
    assert again.dataset_id == done.dataset_id and not again.created_dataset
    kept = datasets.get_case(store.read(), again.case_id)
    assert kept.expected == "Sorry, no." and "failure_mode" not in kept.tags


def test_promote_result_refuses_what_it_cannot_promote(store: Store) -> None:
    ids = _results(store)
    with pytest.raises(service.DatasetError, match="was not run on a case: nothing to promote"):
        service.promote_result(store, ids["adhoc"], "regressions", "why")
    with pytest.raises(service.DatasetError, match="no result with id 999"):
        service.promote_result(store, 999, "regressions")
    with pytest.raises(service.DatasetError, match="name the dataset"):
        service.promote_result(store, ids["on_case"], "  ")
    assert [row.name for row in service.list_datasets(store)] == ["tickets"]


def test_import_is_all_or_nothing_and_skips_cases_already_there(
    store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "cases.csv"
    bad.write_text("q,__expected\nfine,ok\nbad,python: x\nshort\n", encoding="utf-8")
    with pytest.raises(service.DatasetFileError) as caught:
        service.import_dataset(store, bad)
    assert [problem.line for problem in caught.value.problems] == [3, 4]
    assert service.list_datasets(store) == []
    good = tmp_path / "cases.jsonl"
    good.write_text('{"vars": {"q": "a"}}\n{"vars": {"q": "b"}, "expected": "B"}\n')
    first = service.import_dataset(store, good)
    assert (first.dataset, first.created, first.added, first.skipped) == ("cases", True, 2, 0)
    second = service.import_dataset(store, good, "cases")
    assert (second.created, second.added, second.skipped) == (False, 0, 2)
    cases = service.dataset_cases(store, first.dataset_id)
    assert [(case.vars, case.expected, case.source) for case in cases] == [
        ({"q": "a"}, None, "import"),
        ({"q": "b"}, "B", "import"),
    ]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_then_import_into_a_new_dataset_keeps_every_case(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    ids = _results(store)
    service.promote_result(store, ids["on_case"], "tickets", "twice")
    path = tmp_path / f"out.{suffix}"
    assert service.export_dataset(store, "tickets", path) == 2
    copy = service.import_dataset(store, path, "copy")
    original = service.dataset_cases(store, service.find_dataset(store, "tickets").id)
    copied = service.dataset_cases(store, copy.dataset_id)
    assert [(c.vars, c.expected, c.tags, c.checks) for c in copied] == [
        (c.vars, c.expected, c.tags, c.checks) for c in original
    ]
    assert not list(tmp_path.glob(".*partial"))


def test_a_refused_export_leaves_no_file(store: Store, tmp_path: Path) -> None:
    dataset = service.create_dataset(store, "numbers")
    service.add_case(store, dataset, service.case_values({"n": 3}))
    target = tmp_path / "numbers.csv"
    with pytest.raises(service.ExportRefused, match="variable 'n' is not text"):
        service.export_dataset(store, "numbers", target)
    assert not target.exists() and not list(tmp_path.glob(".*partial"))
    with pytest.raises(service.DatasetError, match=r"no dataset named 'nope' \(datasets: numb"):
        service.export_dataset(store, "nope", target)


def test_add_edit_and_delete_cases_through_the_service(store: Store) -> None:
    dataset = service.create_dataset(store, "d", " a description ")
    values = service.case_values(
        {"t": "x"}, "", {"task_type": " summary ", "difficulty": ""}, [{"type": "is-json"}]
    )
    assert values.expected is None and values.tags == {"task_type": "summary"}
    assert values.checks == ({"kind": "is-json"},)
    case_id = service.add_case(store, dataset, values)
    service.edit_case(store, case_id, service.case_values({"t": "y"}, "Y"))
    case = service.get_case(store, case_id)
    assert (case.vars, case.expected, case.tags, case.checks) == ({"t": "y"}, "Y", {}, ())
    with pytest.raises(
        service.DatasetError, match=r"check 1: check .is-json.: needs a JSON Schema object"
    ):
        service.case_values({}, checks=[{"type": "is-json", "value": 3}])
    service.delete_case(store, case_id)
    assert service.dataset_cases(store, dataset) == []
    service.delete_dataset(store, dataset)
    assert service.list_datasets(store) == []


def test_the_case_form_reads_pairs_or_json_and_writes_back_what_it_read() -> None:
    assert service.parse_vars_text("ticket = I was charged; lang=en") == {
        "ticket": "I was charged",
        "lang": "en",
    }
    assert service.parse_vars_text('{"n": 3, "s": "a;b"}') == {"n": 3, "s": "a;b"}
    for variables in ({"ticket": "x", "lang": "en"}, {"n": 3}, {"s": "a;b"}, {}):
        assert service.parse_vars_text(service.vars_text(variables)) == variables
    for text, problem in (("novalue", "is not name=value"), ("a=1;a=2", "given twice"),
                          ("[1]", "not name=value"), ("{bad", "not JSON")):  # fmt: skip
        with pytest.raises(service.DatasetError, match=problem):
            service.parse_vars_text(text)
    assert service.parse_checks_text("icontains: refund") == [CHECK]
    assert service.checks_text([CHECK]) == "icontains: refund"
    two = [CHECK, {"kind": "is-json"}]
    assert service.parse_checks_text(service.checks_text(two)) == two
    with pytest.raises(service.DatasetError, match="write a JSON list"):
        service.parse_checks_text("refund please")


def test_a_case_s_own_checks_join_the_run_s_checks_on_its_cells(store: Store) -> None:
    from llmbench.config import Settings
    from llmbench.services.evaluation.engine import EvalError, EvalPlan, create_eval_run, plan_cells

    def job(db) -> tuple[int, list[int]]:
        dataset = datasets.create_dataset(db, "d")
        cases = datasets.add_cases(
            db,
            dataset,
            [datasets.NewCase({"t": "a"}, checks=[CHECK]), datasets.NewCase({"t": "b"})],
        )
        version = prompts.add_version(db, prompts.create_prompt(db, "p"), {"task": "{{ t }}"})
        return version, cases

    version, cases = store.write(job)
    plan = EvalPlan("r", (version,), tuple(cases), models=("llmbench/echo",),
                    checks=({"kind": "is-json"},))  # fmt: skip
    cells = plan_cells(store, Settings(), plan)
    assert [[spec.kind for spec in cell.checks] for cell in cells] == [
        ["is-json", "icontains"],
        ["is-json"],
    ]
    store.write(
        lambda db: db.execute(
            "UPDATE cases SET checks = ? WHERE id = ?",
            ['[{"kind": "regex", "value": "("}]', cases[1]],
        )
    )
    with pytest.raises(EvalError, match=rf"case {cases[1]} check 1: check 'regex': bad regular"):
        create_eval_run(store, plan)
