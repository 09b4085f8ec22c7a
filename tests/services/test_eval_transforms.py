"""Output transforms and a case's threshold in the run engine, through the real gateway on the
built-in echo model (its answer is the rendered prompt, "Question: Where is my refund?"):
inline JavaScript, JavaScript and Python files, the case's transform before a check's own,
errors that fail (never pass), no JavaScript engine, and promptfoo's test threshold."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, GuardSettings, Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.evaluation.engine import EvalPlan, run_cells, run_eval
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo

SETTINGS = Settings(gateway=GatewaySettings(max_retries=0), guard=GuardSettings(enabled=False))
ECHO = "llmbench/echo"
ANSWER = "Question: Where is my refund?"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "eval.db") as opened:
        yield opened
    shutdown_sync()


def _run(store: Store, checks: list[dict[str, Any]], **plan: Any) -> Any:
    def job(db: Any) -> tuple[int, int]:
        prompt = prompts_repo.create_prompt(db, "answer")
        version = prompts_repo.add_version(
            db, prompt, {"task": "Question: {{ query }}"}, variables=[Variable("query")]
        )
        dataset = datasets.create_dataset(db, "questions")
        (case_id,) = datasets.add_cases(
            db, dataset, [datasets.NewCase({"query": "Where is my refund?"})]
        )
        return version, case_id

    version, case_id = store.write(job)
    grading = plan.pop("case_grading", None)
    summary = run_eval(
        store,
        SETTINGS,
        EvalPlan(
            name="transforms",
            version_ids=(version,),
            case_ids=(case_id,),
            models=(ECHO,),
            checks=tuple(checks),
            case_grading={case_id: grading} if grading else {},
            **plan,
        ),
    )
    (cell,) = run_cells(store, summary.run_id)
    return cell


def _checks(store: Store) -> list[tuple[str, int | None, float | None, str]]:
    rows = store.read().execute("SELECT kind, passed, score, detail FROM checks ORDER BY id")
    return [tuple(row) for row in rows.fetchall()]


def test_inline_javascript_transforms_an_expression_and_a_body(store: Store) -> None:
    pytest.importorskip("quickjs")
    cell = _run(
        store,
        [
            {"type": "equals", "value": ANSWER.upper(), "transform": "output.toUpperCase()"},
            {
                "type": "equals",
                "value": "refund?",
                "transform": "const words = output.split(' ');\nreturn words[words.length - 1];",
            },
            {"type": "is-json", "transform": "({words: output.split(' ').length})"},
            {"type": "equals", "value": ANSWER},  # no transform: the answer as it came
        ],
    )
    assert [row[1] for row in _checks(store)] == [1, 1, 1, 1]
    assert cell.passed is True


def test_javascript_and_python_file_transforms(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("quickjs")
    (tmp_path / "shape.js").write_text(
        "module.exports = (output, context) => output + ' / ' + context.vars.query.length;\n"
        "module.exports.first = (output) => output.split(':')[0];\n",
        encoding="utf-8",
    )
    (tmp_path / "shape.py").write_text(
        textwrap.dedent(
            """
            def get_transform(output, context):
                return output.lower() + " " + context["prompt"][:8]

            def words(output, context):
                return len(output.split())
            """
        ),
        encoding="utf-8",
    )
    _run(
        store,
        [
            {
                "type": "equals",
                "value": f"{ANSWER} / 19",
                "transform": f"file://{tmp_path}/shape.js",
            },
            {
                "type": "equals",
                "value": "Question",
                "transform": f"file://{tmp_path}/shape.js:first",
            },
            {
                "type": "equals",
                "value": ANSWER.lower() + " Question",
                "transform": f"file://{tmp_path}/shape.py",  # get_transform by default
            },
            {"type": "equals", "value": "5", "transform": f"file://{tmp_path}/shape.py:words"},
        ],
    )
    assert [row[1] for row in _checks(store)] == [1, 1, 1, 1]


def test_the_cases_transform_comes_before_a_checks_own(store: Store) -> None:
    pytest.importorskip("quickjs")
    cell = _run(
        store,
        [
            {"type": "equals", "value": ANSWER.upper()},  # sees the case's transform only
            {
                # after the case's upper-casing, so the 'Q' it lowers is there to lower
                "type": "equals",
                "value": "q" + ANSWER.upper()[1:],
                "transform": "output.replace('Q', 'q')",
            },
            {"type": "python", "value": "output == output.upper()"},
        ],
        grading={"transform": "output.toUpperCase()"},
    )
    assert [row[1] for row in _checks(store)] == [1, 1, 1]
    assert cell.passed is True


def test_a_transform_that_makes_an_object_passes_it_on_as_promptfoo_does(store: Store) -> None:
    pytest.importorskip("quickjs")
    cell = _run(
        store,
        [
            {"type": "is-json", "value": {"type": "object", "required": ["color"]}},
            {"type": "javascript", "value": "output.color === 'purple'"},  # not a string
            {"type": "python", "value": "output['countries'][0] == 'Brazil'"},
            {
                "type": "contains-any",
                "value": ["Guatemala", "India"],
                "transform": "output.countries",
            },
            {"type": "equals", "value": '{"color":"purple","countries":["Brazil","India"]}'},
        ],
        grading={"transform": "({color: 'purple', countries: ['Brazil', output ? 'India' : '']})"},
    )
    assert [row[1] for row in _checks(store)] == [1, 1, 1, 1, 1]
    assert cell.passed is True


def test_a_cases_own_transform_replaces_the_suites(store: Store) -> None:
    pytest.importorskip("quickjs")
    _run(
        store,
        [{"type": "equals", "value": ANSWER.lower()}],
        grading={"transform": "output.toUpperCase()"},
        case_grading={"transform": "output.toLowerCase()"},
    )
    assert _checks(store)[0][1] == 1


def test_a_failing_check_transform_fails_that_check_with_the_reason(
    store: Store, tmp_path: Path
) -> None:
    pytest.importorskip("quickjs")
    cell = _run(
        store,
        [
            {"type": "contains", "value": "x", "negate": True, "transform": "output.nope()"},
            {"type": "contains", "value": "x", "negate": True, "transform": "undefined"},
            {
                "type": "contains",
                "value": "x",
                "negate": True,
                "transform": f"file://{tmp_path}/missing.py",
            },
            {"type": "contains", "value": "refund"},
        ],
    )
    rows = _checks(store)
    assert [row[1] for row in rows] == [0, 0, 0, 1]  # a negated check does not pass on an error
    assert rows[0][3].startswith("error: transform failed (inline transform: output.nope()):")
    assert "not a function" in rows[0][3]
    assert rows[1][3] == "error: the transform did not return a value (inline transform: undefined)"
    assert "no such file" in rows[2][3]
    assert cell.ok and cell.passed is False


def test_a_failing_case_transform_makes_the_cell_an_error(store: Store) -> None:
    cell = _run(
        store,
        [{"type": "contains", "value": "refund"}],
        grading={"transform": "file:///nowhere/shape.py"},
    )
    assert cell.status == "error" and cell.passed is None
    assert cell.failures[0].startswith("error: transform error: file transform /nowhere/shape.py")
    assert "no such file" in cell.failures[0]


def test_without_a_javascript_engine_transforms_are_skipped_and_say_why(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "quickjs", None)  # as where the wheel is not installed
    cell = _run(
        store,
        [
            {"type": "contains", "value": "REFUND", "transform": "output.toUpperCase()"},
            {"type": "contains", "value": "refund"},
        ],
    )
    rows = _checks(store)  # the checks that ran first, then those that could not
    assert rows[1][:3] == ("contains", None, None)
    assert rows[1][3].startswith("skipped: its transform cannot run: no JavaScript engine")
    assert cell.passed is True  # the one check that ran passed; the skipped one has no verdict


def test_without_a_javascript_engine_a_case_transform_skips_every_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "quickjs", None)
    cell = _run(
        store, [{"type": "contains", "value": "refund"}], grading={"transform": "output.trim()"}
    )
    (row,) = _checks(store)
    assert row[:3] == ("contains", None, None)
    assert "the case's transform cannot run: no JavaScript engine" in row[3]
    assert cell.passed is None  # no verdict rather than a pass


@pytest.mark.parametrize(("threshold", "passed"), [(0.5, True), (0.75, False), (0.0, True)])
def test_a_case_threshold_passes_on_the_weighted_score(
    store: Store, threshold: float, passed: bool
) -> None:
    checks = [
        {"type": "contains", "value": "refund", "weight": 2},
        {"type": "contains", "value": "nowhere"},
        {"type": "contains", "value": "never", "weight": 1},
    ]
    cell = _run(store, checks, case_grading={"threshold": threshold})
    assert cell.score == pytest.approx(0.5)  # (2*1 + 0 + 0) / 4
    assert cell.passed is passed  # not "every check passes": two of them failed
    rows = _checks(store)
    # Each check keeps its score and says how it did; the case's verdict is the threshold's.
    assert [row[:3] for row in rows[:3]] == [
        ("contains", None, 1.0),
        ("contains", None, 0.0),
        ("contains", None, 0.0),
    ]
    assert rows[1][3] == "failed, weighed into the case's threshold: missing 'nowhere'"
    comparison = "≥" if passed else "<"
    assert rows[3] == (
        "threshold",
        int(passed),
        0.5,
        f"aggregate score 0.50 {comparison} {threshold:g} threshold",
    )
    assert cell.failures == (() if passed else (rows[3][0] + ": " + rows[3][3],))


def test_without_a_threshold_every_check_must_still_pass(store: Store) -> None:
    cell = _run(
        store,
        [{"type": "contains", "value": "refund", "weight": 9}, {"type": "contains", "value": "x"}],
    )
    assert cell.score == pytest.approx(0.9) and cell.passed is False


def test_a_suite_file_carries_transforms_and_thresholds(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("quickjs")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "shout.py").write_text(
        "def get_transform(output, context):\n    return output.upper() + '!'\n", encoding="utf-8"
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        textwrap.dedent(
            """
            prompts:
              - name: answer
                sections: {task: "Question: {{ query }}"}
            models: [llmbench/echo]
            transform: output.toLowerCase()
            tests:
              - vars: {query: "Where is my refund?"}
                transform: file://scripts/shout.py
                threshold: 0.5
                checks:
                  - {type: contains, value: "</USER_INPUT>!"}
                  - {type: equals, value: "QUESTION", transform: "output.split(':')[0]"}
                  - {type: contains, value: nowhere}
              - vars: {query: "And my invoice?"}
                checks: [{type: contains, value: "and my invoice?"}]
            """
        ),
        encoding="utf-8",
    )
    doc = load_suite(suite)
    assert doc.grading == {"transform": "output.toLowerCase()"}
    assert doc.tests[0].grading == {
        "transform": f"file://{tmp_path / 'scripts' / 'shout.py'}",
        "threshold": 0.5,
    }
    prepared = prepare_suite(store, suite)
    summary = run_eval(store, SETTINGS, prepared.plan)
    first, second = run_cells(store, summary.run_id)
    details = sorted(row[3] for row in _checks(store))
    assert details == [
        "aggregate score 0.67 ≥ 0.5 threshold",
        "failed, weighed into the case's threshold: missing 'nowhere'",
        "found 'and my invoice?'",  # the suite's transform lowered "And"
        "passed, weighed into the case's threshold: equal",
        "passed, weighed into the case's threshold: found '</USER_INPUT>!'",
    ]
    assert first.passed is True and first.score == pytest.approx(2 / 3)
    assert second.passed is True


def test_suite_problems_with_transforms_name_their_line(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        textwrap.dedent(
            """
            prompts: [{name: answer, sections: {task: "Q: {{ query }}"}}]
            tests:
              - vars: {query: a}
                transform: file://gone.py
              - vars: {query: b}
                threshold: high
              - vars: {query: c}
                checks: [{type: contains, value: a, transform: "file://x.rb"}]
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    shown = [str(problem) for problem in raised.value.problems]
    assert any(":5:" in text and "no such file" in text for text in shown), shown
    assert any(":7:" in text and "threshold must be a number" in text for text in shown), shown
    assert any(":9:" in text and "must end in .js, .cjs, .mjs or .py" in text for text in shown), (
        shown
    )


def test_merged_tests_must_agree_on_their_rule(store: Store, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        textwrap.dedent(
            """
            prompts: [{name: answer, sections: {task: "Q: {{ query }}"}}]
            tests:
              - vars: {query: a}
                threshold: 0.5
              - vars: {query: a}
                threshold: 0.9
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="same case, but its transform or threshold differs"):
        prepare_suite(store, suite)
