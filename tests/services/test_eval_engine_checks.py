"""The checks the run engine grades itself, through the real gateway on the built-in models:
python and javascript code (with promptfoo's contract), promptfoo's model-graded kinds judged
by the offline mock, select-best across a case's cells, and a judge that cannot be reached
(an error cell, never a failed check)."""

from __future__ import annotations

import re
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmbench.config import GatewaySettings, GuardSettings, ModelOptions, Settings
from llmbench.core.models import Variable
from llmbench.gateway.client import shutdown_sync
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.services.evaluation.engine import EvalPlan, run_cells, run_eval
from llmbench.services.evaluation.suite import prepare_suite
from llmbench.store import datasets
from llmbench.store.db import Store, open_db
from llmbench.store.prompts import versions as prompts_repo

# The guards are not what these tests are about.
SETTINGS = Settings(gateway=GatewaySettings(max_retries=0), guard=GuardSettings(enabled=False))
ECHO, MOCK = "llmbench/echo", "llmbench/mock"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_db(tmp_path / "eval.db") as opened:
        yield opened
    shutdown_sync()


def _seed(
    store: Store, cases: list[dict[str, Any]], *, versions: int = 1
) -> tuple[list[int], list[int]]:
    def job(db: Any) -> tuple[list[int], list[int]]:
        prompt = prompts_repo.create_prompt(db, "answer")
        variables = [Variable(name, "untrusted") for name in cases[0]["vars"]]
        ids = [
            prompts_repo.add_version(
                db, prompt, {"task": "Question: {{ query }}" + "!" * n}, variables=variables
            )
            for n in range(versions)
        ]
        dataset = datasets.create_dataset(db, "questions")
        case_ids = datasets.add_cases(
            db,
            dataset,
            [datasets.NewCase(case["vars"], expected=case.get("expected")) for case in cases],
        )
        return ids, case_ids

    return store.write(job)


def _run(
    store: Store, checks: list[dict[str, Any]], *, settings: Settings = SETTINGS, **plan: Any
) -> list[Any]:
    cases = plan.pop("cases", [{"vars": {"query": "Where is my refund?"}, "expected": "refund"}])
    versions, case_ids = _seed(store, cases, versions=plan.pop("versions", 1))
    summary = run_eval(
        store,
        settings,
        EvalPlan(
            name="checks",
            version_ids=tuple(versions),
            case_ids=tuple(case_ids),
            models=plan.pop("models", (ECHO,)),
            checks=tuple(checks),
            judge_model=plan.pop("judge_model", MOCK),
            **plan,
        ),
    )
    return run_cells(store, summary.run_id)


def _checks(
    store: Store, kind: str | None = None
) -> list[tuple[str, int | None, float | None, str]]:
    rows = (
        store.read()
        .execute(
            "SELECT kind, passed, score, detail FROM checks"
            " WHERE kind NOT LIKE 'similarity-%' ORDER BY id"
        )
        .fetchall()
    )
    return [tuple(row) for row in rows if kind is None or row[0] == kind]


def test_python_checks_inline_bodies_and_files_with_promptfoos_contract(
    store: Store, tmp_path: Path
) -> None:
    script = tmp_path / "grade.py"
    script.write_text(
        textwrap.dedent(
            """
            print("prints go nowhere near the protocol")

            def get_assert(output, context):
                return {"pass": "refund" in output, "score": 0.8,
                        "reason": context["vars"]["query"] + " / " + context["prompt"][:9]}

            def length_score(output, context):
                return len(output) / 100
            """
        ),
        encoding="utf-8",
    )
    cells = _run(
        store,
        [
            {"type": "python", "value": "'refund' in output"},
            {"type": "python", "value": "words = output.split()\nreturn len(words) > 2"},
            {"type": "python", "value": f"file://{script}"},
            {"type": "python", "value": f"file://{script}:length_score", "threshold": 0.1},
            {"type": "not-python", "value": "context['test']['expected'] == 'refund'"},
            {
                "type": "python",
                "value": "context['config']['word'] in output",
                "config": {"word": "Where"},
            },
        ],
    )
    (cell,) = cells
    checks = _checks(store)
    assert [row[1] for row in checks] == [1, 1, 1, 1, 0, 1]
    assert checks[2][2:] == (0.8, "Where is my refund? / Question:")
    assert checks[3][2] == pytest.approx(len(cell.output) / 100)
    assert "returned true" in checks[4][3]
    assert cell.ok and cell.passed is False


def test_bad_python_fails_its_check_and_the_run_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmbench.services.evaluation.scripts.DEFAULT_SCRIPT_TIMEOUT_S", 1.0)
    started = time.monotonic()
    _run(
        store,
        [
            {"type": "python", "value": "1 / 0"},
            {"type": "python", "value": "import time\ntime.sleep(60)\nreturn True"},
            {"type": "python", "value": "import os\nos._exit(3)"},
            {"type": "python", "value": "'maybe'"},
            {"type": "python", "value": "True"},  # after all that, a fresh worker answers
        ],
    )
    assert time.monotonic() - started < 20
    details = [row[3] for row in _checks(store)]
    assert details[0] == "error: Python code failed: ZeroDivisionError: division by zero"
    assert details[1] == "error: Python code failed: timed out after 1 s"
    assert details[2] == "error: Python code failed: the Python process ended (exit code 3)"
    assert details[3].startswith("error: Python code failed: must return a boolean")
    assert [row[1] for row in _checks(store)] == [0, 0, 0, 0, 1]


def test_javascript_inline_bodies_and_module_files(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("quickjs")
    module = tmp_path / "grade.js"
    module.write_text(
        "module.exports = (output, context) => ({"
        "pass: output.includes(context.vars.query.slice(0, 5)),"
        " score: 0.5, reason: 'checked ' + context.vars.query});\n"
        "module.exports.short = (output) => output.length < 10;\n",
        encoding="utf-8",
    )
    _run(
        store,
        [
            {"type": "javascript", "value": "output.includes('refund')"},
            {"type": "javascript", "value": "const n = output.length; n > 5"},
            {
                "type": "javascript",
                "value": "if (output.startsWith('Question')) {\n  return 1;\n}\nreturn 0;",
            },
            {"type": "javascript", "value": f"file://{module}"},
            {"type": "javascript", "value": f"file://{module}:short"},
            {"type": "javascript", "value": "require('fs').readFileSync('/etc/passwd')"},
        ],
    )
    rows = _checks(store)
    assert [row[1] for row in rows] == [1, 1, 1, 1, 0, 0]
    assert rows[3][2:] == (0.5, "checked Where is my refund?")
    assert "require(fs) is not available" in rows[5][3]


def test_javascript_without_an_engine_is_skipped_and_says_why(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "quickjs", None)  # as where the wheel is not installed
    (cell,) = _run(
        store, [{"type": "javascript", "value": "true"}, {"type": "contains", "value": "refund"}]
    )
    rows = _checks(store)
    assert rows[1][:3] == ("javascript", None, None)
    assert rows[1][3].startswith("skipped: no JavaScript engine: install llmbench[js]")
    assert cell.ok and cell.passed is True  # skipped is neither a pass nor a fail


MODEL_GRADED = [
    {"type": "factuality", "value": "Refunds take five days."},
    {"type": "model-graded-closedqa", "value": "It mentions a refund"},
    {"type": "answer-relevance"},
    {"type": "context-faithfulness"},
    {"type": "context-recall", "value": "Refunds take five days. They go to the card."},
    {"type": "context-relevance"},
    {"type": "g-eval", "value": "Answers the question clearly"},
]


def test_model_graded_kinds_are_judged_offline_and_deterministically(
    store: Store, tmp_path: Path
) -> None:
    case = {
        "vars": {
            "query": "How long do refunds take?",
            "context": "Refunds take five days. Shipping is free.",
        },
        "expected": "five days",
    }
    _run(store, MODEL_GRADED, cases=[case])
    first = _checks(store)
    assert [row[0] for row in first] == [
        "factuality",
        "model-graded-closedqa",
        "answer-relevance",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "g-eval",
    ]
    for kind, passed, score, detail in first:
        assert passed in (0, 1) and score is not None, (kind, detail)
        assert not detail.startswith(("cannot", "error")), (kind, detail)
    assert first[0][3].startswith("(") and first[6][3].startswith("G-Eval")
    assert "ROUGE-L" in first[2][3]  # no embedding model configured: said so
    with open_db(tmp_path / "again.db") as again:
        _run(again, MODEL_GRADED, cases=[case])
        assert _checks(again) == first


def test_context_checks_need_the_cases_context(store: Store) -> None:
    _run(store, [{"type": "context-faithfulness"}])
    ((kind, passed, _, detail),) = _checks(store)
    assert (kind, passed) == ("context-faithfulness", 0)
    assert detail == "cannot grade: the case has no `context` variable"


def test_select_best_picks_one_output_per_case(store: Store) -> None:
    cells = _run(
        store,
        [{"type": "select-best", "value": "The most helpful answer"}],
        versions=2,
        models=(ECHO, MOCK),
        cases=[{"vars": {"query": "Where is my refund?"}}, {"vars": {"query": "Reset password"}}],
    )
    assert len(cells) == 8
    for case_id in {cell.case_id for cell in cells}:
        mine = [cell for cell in cells if cell.case_id == case_id]
        assert sorted(cell.passed for cell in mine) == [False, False, False, True]
    rows = _checks(store, "select-best")
    assert len(rows) == 8 and sum(row[1] for row in rows) == 2
    assert any(row[3].startswith("selected as the best of 4") for row in rows)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("kind", ["llm-rubric", "factuality", "g-eval"])
def test_a_judge_that_cannot_be_reached_makes_an_error_cell(
    store: Store, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-closed-port-0123456789")
    judge = "openai/judge-nowhere"
    settings = Settings(
        gateway=GatewaySettings(max_retries=0),
        guard=GuardSettings(enabled=False),
        model={judge: ModelOptions(api_base=f"http://127.0.0.1:{_closed_port()}/v1", timeout_s=5)},  # type: ignore[arg-type]
    )
    check = {"type": kind, "value": "Polite"}
    (cell,) = _run(
        store,
        [check, {"type": "contains", "value": "refund"}],
        settings=settings,
        judge_model=judge,
    )
    assert not cell.ok and not cell.succeeded
    assert cell.output.startswith(f"judge error: the judge {judge} failed")
    judged = _checks(store, "judge" if kind == "llm-rubric" else kind)
    assert judged[0][1:3] == (None, None) and judged[0][3].startswith("error: ")
    # The deterministic checks are still recorded beside the error.
    assert _checks(store, "contains")[0][1] == 1


def test_a_judge_model_without_a_key_is_an_error_not_a_failed_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("LLMBENCH_HOME", str(Path(store.path).parent))
    (cell,) = _run(
        store, [{"type": "llm-rubric", "value": "Polite"}], judge_model="openai/gpt-4o-mini"
    )
    assert not cell.ok and "judge error" in cell.output
    assert _checks(store, "judge")[0][1] is None


DIMENSION_SUITE = """\
name: dimensions
prompts:
  - name: reply
    text: "Ticket: {{ ticket }}"
models: [llmbench/echo]
tests:
  - vars: {ticket: I was charged twice}
checks:
  - {type: judge}
  - {type: python, value: "file://checks/grade.py:has_ticket"}
judge:
  model: llmbench/mock
  dimensions:
    - {name: accuracy, description: "Is every claim correct?", scale: [1, 5]}
    - {name: empathy, description: "Does it acknowledge the customer?", scale: [1, 3]}
"""


def test_a_suites_judge_dimensions_run_as_a_multi_dimension_judge(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "grade.py").write_text(
        "def has_ticket(output, context):\n    return 'Ticket' in output\n", encoding="utf-8"
    )
    suite = tmp_path / "suite.yaml"
    suite.write_text(DIMENSION_SUITE, encoding="utf-8")
    prepared = prepare_suite(store, suite)
    # The file is the suite folder's, whatever the current directory when the run starts.
    assert (
        prepared.plan.checks[1]["value"] == f"file://{tmp_path / 'checks' / 'grade.py'}:has_ticket"
    )
    summary = run_eval(store, SETTINGS, prepared.plan)
    assert len(run_cells(store, summary.run_id)) == 1
    ((_, passed, score, detail),) = _checks(store, "judge")
    assert passed in (0, 1) and score is not None
    assert re.fullmatch(r"accuracy [1-5]/5: .+; empathy [1-3]/3: .+", detail)
    assert _checks(store, "python")[0][1] == 1


def test_a_missing_script_file_is_a_suite_problem_with_its_line(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(DIMENSION_SUITE, encoding="utf-8")
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert f"{suite}:10: checks: python check: no such file" in str(raised.value)
