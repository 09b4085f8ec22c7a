"""Reading eval suites: every field, and every problem with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import InlinePrompt, PromptRef, SuiteError

FULL = """\
name: support migration
prompts:
  - support-reply@production
  - support-reply@3
  - support-reply
  - name: short-reply
    sections:
      role: You answer in two sentences.
      task: "Ticket: {{ ticket }}"
    variables: [{name: ticket, kind: untrusted}]
    model: llmbench/mock
    params: {temperature: 0}
  - name: plain
    text: "Say hi to {{ who }}"
models: [llmbench/echo, llmbench/mock]
dataset: cases.csv
tests:
  - vars: {ticket: I was charged twice}
    expected: refund
    checks: [{type: icontains, value: refund}]
    tags: {task_type: billing}
    description: double charge
checks:
  - {type: not-contains, value: As an AI}
  - {type: llm-rubric, value: Polite}
judge:
  model: llmbench/mock
  params: {temperature: 0}
  dimensions: [{name: accuracy, description: "Correct?", scale: [1, 10]}]
repeat: 2
concurrency: 7
params: {max_tokens: 100}
"""


def _write(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    return [str(problem) for problem in error.value.problems]


def test_a_full_suite_is_read(tmp_path: Path) -> None:
    _write(tmp_path, "ticket,expected,__description\nMy parcel,parcel,lost\n", "cases.csv")
    suite = load_suite(_write(tmp_path, FULL))
    assert suite.name == "support migration"
    assert suite.prompts[:3] == (
        PromptRef("support-reply", "production", 3),
        PromptRef("support-reply", "3", 4),
        PromptRef("support-reply", "production", 5),
    )
    inline = suite.prompts[3]
    assert isinstance(inline, InlinePrompt)
    assert inline.sections == {
        "role": "You answer in two sentences.",
        "task": "Ticket: {{ ticket }}",
    }
    assert (inline.model, inline.params, inline.variables[0].kind) == (
        "llmbench/mock",
        {"temperature": 0},
        "untrusted",
    )
    assert suite.prompts[4] == InlinePrompt("plain", {"task": "Say hi to {{ who }}"}, line=13)
    assert suite.models == ("llmbench/echo", "llmbench/mock")
    assert [(t.vars, t.expected, t.tags) for t in suite.tests] == [
        ({"ticket": "My parcel"}, "parcel", {"description": "lost"}),
        (
            {"ticket": "I was charged twice"},
            "refund",
            {"task_type": "billing", "description": "double charge"},
        ),
    ]
    assert suite.tests[1].checks == ({"kind": "icontains", "value": "refund"},)
    assert [(c["kind"], c.get("negate", False)) for c in suite.checks] == [
        ("contains", True),
        ("judge", False),
    ]
    assert (suite.judge_model, suite.judge_params) == ("llmbench/mock", {"temperature": 0})
    assert suite.judge_dimensions == (
        {"name": "accuracy", "description": "Correct?", "scale": [1, 10]},
    )
    assert (suite.repeat, suite.concurrency, suite.params) == (2, 7, {"max_tokens": 100})


def test_a_dataset_name_is_kept_for_the_database(tmp_path: Path) -> None:
    suite = load_suite(_write(tmp_path, "prompts: [p]\ndataset: tickets\n"))
    assert (suite.dataset, suite.dataset_line, suite.tests, suite.name) == (
        "tickets",
        2,
        (),
        "suite",
    )


def test_jsonl_cases_nested_or_flat(tmp_path: Path) -> None:
    _write(
        tmp_path,
        '{"vars": {"q": "a"}, "expected": "x", "tags": {"k": "v"}}\n\n{"q": "b", "expected": 3}\n',
        "cases.jsonl",
    )
    suite = load_suite(_write(tmp_path, "prompts: [p]\ndataset: cases.jsonl\n"))
    assert [(t.vars, t.expected, t.tags) for t in suite.tests] == [
        ({"q": "a"}, "x", {"k": "v"}),
        ({"q": "b"}, "3", {}),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "prompts: [p]\ntests: [{vars: {a: 1}}]\nbogus: 1\n",
            "suite.yaml:3: the suite: unknown key 'bogus'",
        ),
        ("prompts: [p\n", "suite.yaml:2: invalid YAML"),
        ("tests: [{vars: {a: 1}}]\n", "suite.yaml:1: the suite needs prompts"),
        ("prompts: [p]\n", "suite.yaml:1: the suite has no cases"),
        (
            "prompts: [p]\ntests:\n  - vars: {a: 1}\n    checks:\n      - {type: nonsense}\n",
            "suite.yaml:5: check 'nonsense': this check type is not supported",
        ),
        (
            "prompts: [p]\ntests: [{vars: {a: 1}}]\nchecks:\n  - contains\n",
            "suite.yaml:4: checks: a check must be a mapping",
        ),
        (
            "prompts:\n  - name: x\n    sections: {task: hi, plot: no}\ntests: [{vars: {}}]\n",
            "suite.yaml:3: prompt 'x': sections: unknown key 'plot'",
        ),
        (
            "prompts:\n  - name: x\ntests: [{vars: {}}]\n",
            "suite.yaml:2: prompt 'x': give either sections or text",
        ),
        (
            "prompts: [p]\ntests: [{vars: {}}]\nrepeat: 0\n",
            "suite.yaml:3: repeat must be at least 1",
        ),
        (
            "prompts: [p]\ntests: [{vars: {}}]\njudge: {dimensions: [{name: a, scale: [5, 1]}]}\n",
            "suite.yaml:3: judge: scale must be [low, high] integers",
        ),
        (
            "prompts: ['bad name@']\ntests: [{vars: {}}]\n",
            "suite.yaml:1: 'bad name@' is not a prompt ref",
        ),
    ],
)
def test_problems_name_their_line(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(_write(tmp_path, text))
    assert any(problem.startswith(f"{tmp_path}/{expected}") for problem in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "prompts: [p]\nrepeat: zero\nmodels: [1]\ntests:\n  - vars: []\n"
    problems = _problems(_write(tmp_path, text))
    assert [problem.split(":")[1] for problem in problems] == ["2", "3", "5"]


def test_bad_dataset_rows_name_their_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "q,expected\na,1\nb\n", "cases.csv")
    _write(tmp_path, '{"vars": {"q": 1}}\nnot json\n[1]\n', "cases.jsonl")
    csv_problems = _problems(_write(tmp_path, "prompts: [p]\ndataset: cases.csv\n"))
    assert csv_problems == [f"{tmp_path / 'cases.csv'}:3: 1 fields where the header has 2"]
    jsonl_problems = _problems(_write(tmp_path, "prompts: [p]\ndataset: cases.jsonl\n"))
    where = f"{tmp_path / 'cases.jsonl'}:"
    assert [p.removeprefix(where).split(":")[0] for p in jsonl_problems] == ["2", "3"]
    assert jsonl_problems[1].endswith("each line must be a JSON object")
    missing = _problems(_write(tmp_path, "prompts: [p]\ndataset: gone.csv\n"))
    assert missing == [f"{tmp_path / 'gone.csv'}:1: cannot read: No such file or directory"]
