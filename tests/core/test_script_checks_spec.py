"""python/javascript checks as promptfoo writes them (inline, bodies, file://path:function) and
reads their answers; the model-graded kinds' verdict readers."""

from __future__ import annotations

import pytest

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_spec import CheckError
from llmbench.core.evaluation.graders import (
    parse_closedqa,
    parse_factuality,
    parse_g_eval,
    parse_select_best,
    parse_yes_no,
)
from llmbench.core.evaluation.judge import JudgeParseError
from llmbench.core.evaluation.script_spec import (
    ScriptAnswerError,
    inline_javascript,
    inline_python,
    script_outcome,
    script_source,
)


def test_sources_inline_and_files() -> None:
    assert script_source("python", "len(output) > 3").code == "len(output) > 3"
    file = script_source("python", "file://checks/score.py:grade")
    assert (file.path, file.function) == ("checks/score.py", "grade")
    assert script_source("python", "file://score.py").function == ""  # get_assert by default
    assert script_source("javascript", "file://C:/checks/x.js:fn").path == "C:/checks/x.js"
    with pytest.raises(CheckError, match=r"must end in \.py"):
        script_source("python", "file://score.js")
    spec = parse_check({"type": "not-python", "value": "True", "threshold": 3, "config": {"k": 1}})
    assert (spec.kind, spec.negate, spec.threshold, dict(spec.options)) == (
        "python",
        True,
        3,
        {"config": {"k": 1}},
    )


def test_inline_code_is_wrapped_as_promptfoo_wraps_it() -> None:
    assert inline_python("'x' in output").endswith(
        "def main(output, context):\n    return 'x' in output\n"
    )
    body = inline_python("  n = len(output)\n  return n > 3")
    assert "def main(output, context):\n    n = len(output)\n    return n > 3" in body
    assert inline_javascript("output.includes('a');") == "return output.includes('a')"
    assert inline_javascript("const s = JSON.parse(output).score; s > 0.5") == (
        "const s = JSON.parse(output).score; return s > 0.5"
    )
    assert (
        inline_javascript("const s = 'a;b'; s === output") == "const s = 'a;b'; return s === output"
    )
    assert inline_javascript("if (output) {\n  return 1;\n}\nreturn 0;\n") == (
        "if (output) {\n  return 1;\n}\nreturn 0;"
    )


@pytest.mark.parametrize(
    ("answer", "threshold", "negate", "passed", "score"),
    [
        (True, None, False, True, 1.0),
        ("false", None, False, False, 0.0),
        (False, None, True, True, 1.0),
        (0.3, None, False, True, 0.3),  # a number passes above 0 without a threshold
        (0, None, False, False, 0.0),
        (0.3, 0.5, False, False, 0.3),
        ("0.7", 0.5, False, True, 0.7),
        ({"pass": True, "score": 0.4, "reason": "ok"}, None, False, True, 0.4),
        ({"pass": True, "score": 0.4, "reason": "ok"}, 0.5, False, False, 0.4),
        ({"pass_": False, "score": 0.9, "reason": "snake"}, None, True, True, 0.9),
        ('{"pass": true, "score": 1, "reason": "as JSON"}', None, False, True, 1.0),
    ],
)
def test_answers_read_with_promptfoos_rules(
    answer: object, threshold: float | None, negate: bool, passed: bool, score: float
) -> None:
    outcome = script_outcome(answer, threshold=threshold, negate=negate, label="Python code")
    assert (outcome.passed, outcome.score) == (passed, score)


@pytest.mark.parametrize("answer", [None, "maybe", {"pass": True}, [1, 2], '{"broken": '])
def test_answers_that_are_no_verdict_are_errors(answer: object) -> None:
    with pytest.raises(ScriptAnswerError):
        script_outcome(answer, threshold=None, negate=False, label="Python code")


def test_model_graded_verdicts() -> None:
    assert parse_factuality('{"category": "D", "reason": "says Lyon"}') == ("D", "says Lyon")
    assert parse_factuality("(B) The submission adds details.") == (
        "B",
        "The submission adds details.",
    )
    with pytest.raises(JudgeParseError):
        parse_factuality('{"category": "F"}')
    assert parse_closedqa('{"reasoning": "it is polite", "verdict": "Y"}') == (True, "it is polite")
    assert parse_closedqa("The answer is rude.\nN")[0] is False
    with pytest.raises(JudgeParseError):
        parse_closedqa("no verdict here")
    assert parse_yes_no('{"verdicts": [{"n": 2, "supported": "yes"}]}', 3, "supported") == [
        False,
        True,
        False,
    ]
    assert parse_g_eval('{"score": 7, "reason": "mostly"}') == (7.0, "mostly")
    with pytest.raises(JudgeParseError):
        parse_g_eval('{"score": 11, "reason": "x"}')
    assert parse_select_best('{"best": 1, "reason": "funnier"}', 2) == (1, "funnier")
    assert parse_select_best("Output 0 is best", 2)[0] == 0
    with pytest.raises(JudgeParseError):
        parse_select_best('{"best": 2}', 2)
