"""Transforms and a case's threshold as data: which code a transform names (promptfoo's
splitting of `file://path:function`, `get_transform` for Python), a check's `transform` kept
through check_to_data / parse_check, run_check refusing to check untransformed text, and
promptfoo's test-threshold rule in `aggregate`."""

from __future__ import annotations

import pytest

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import aggregate, run_check
from llmbench.core.evaluation.check_spec import CheckContext, CheckError, CheckResult, check_to_data
from llmbench.core.evaluation.transform_spec import (
    CaseGrading,
    TransformAnswerError,
    case_grading_data,
    case_gradings,
    parse_case_grading,
    transform_label,
    transform_source,
    transformed_text,
)


@pytest.mark.parametrize(
    ("value", "kind", "code", "path", "function"),
    [
        ("output.toUpperCase()", "javascript", "output.toUpperCase()", "", ""),
        (
            "const x = 1;\nreturn output + x;",
            "javascript",
            "const x = 1;\nreturn output + x;",
            "",
            "",
        ),
        ("file://shape.js", "javascript", "", "shape.js", ""),
        ("file://lib/shape.cjs:first", "javascript", "", "lib/shape.cjs", "first"),
        ("file://shape.py", "python", "", "shape.py", "get_transform"),
        ("file://shape.py:words", "python", "", "shape.py", "words"),
        ("file://C:/x/shape.py:words", "python", "", "C:/x/shape.py", "words"),
    ],
)
def test_transform_source_names_the_code(
    value: str, kind: str, code: str, path: str, function: str
) -> None:
    source = transform_source(value)
    assert (source.kind, source.code, source.path, source.function) == (kind, code, path, function)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "needs JavaScript code or file://path"),
        (3, "needs JavaScript code or file://path"),
        ("file://shape.rb", "must end in .js, .cjs, .mjs or .py"),
        ("file://shape.py:not a name", "is not a function name"),
    ],
)
def test_bad_transforms_are_refused(value: object, message: str) -> None:
    with pytest.raises(CheckError, match=message):
        transform_source(value)


def test_a_checks_transform_survives_the_saved_form() -> None:
    data = {"kind": "contains", "value": "A", "transform": "output.toUpperCase()", "weight": 2.0}
    spec = parse_check(data)
    assert spec.options["transform"] == "output.toUpperCase()"
    assert check_to_data(spec) == data
    assert parse_check(check_to_data(spec)) == spec
    with pytest.raises(CheckError, match=r"must end in \.js, \.cjs, \.mjs or \.py"):
        parse_check({"type": "contains", "value": "a", "transform": "file://x.txt"})


def test_run_check_refuses_a_spec_whose_transform_it_cannot_apply() -> None:
    spec = parse_check({"type": "contains", "value": "a", "transform": "output", "negate": True})
    result = run_check(spec, "b", CheckContext())
    assert (result.passed, result.score) == (False, 0.0)  # not a pass of the negation
    assert "transform is applied by the run engine" in result.detail


def test_transformed_text_and_labels() -> None:
    assert transformed_text("x", "l") == "x"
    assert transformed_text({"a": [1, "é"]}, "l") == '{"a":[1,"é"]}'
    assert transformed_text(0, "l") == "0"
    assert transformed_text(False, "l") == "false"
    with pytest.raises(TransformAnswerError, match="did not return a value"):
        transformed_text(None, "l")
    assert transform_label("file://a/b.py:f") == "file transform a/b.py:f"
    assert transform_label("output\n  .trim()") == "inline transform: output .trim()"
    assert transform_label("x" * 100).endswith("…")


def test_case_gradings_merge_field_by_field_and_round_trip() -> None:
    every, own = case_gradings(
        {"transform": "output.trim()", "threshold": 0.5},
        {1: {"threshold": 0.9}, 2: {"transform": "file://t.py"}, 3: {"threshold": 0}},
    )
    assert every == CaseGrading("output.trim()", 0.5)
    assert own == {
        1: CaseGrading("output.trim()", 0.9),
        2: CaseGrading("file://t.py", 0.5),
        3: CaseGrading("output.trim()", 0.0),  # 0 is a threshold, not "none"
    }
    for grading in (*own.values(), CaseGrading()):
        assert parse_case_grading(case_grading_data(grading)) == grading
    with pytest.raises(CheckError, match="case 4: threshold must be a number"):
        case_gradings({}, {4: {"threshold": "high"}})
    with pytest.raises(CheckError, match="unknown field 'postprocess'"):
        parse_case_grading({"postprocess": "x"})


def _result(passed: bool, score: float, weight: float = 1.0) -> CheckResult:
    return CheckResult("contains", passed, score, "", weight)


def test_a_threshold_passes_on_the_weighted_score_as_promptfoo_counts_it() -> None:
    results = [_result(True, 1.0, 3), _result(False, 0.0, 1)]
    assert aggregate(results) == (False, 0.75)  # every check must pass
    assert aggregate(results, 0.75) == (True, 0.75)  # score >= threshold
    assert aggregate(results, 0.76) == (False, 0.75)
    assert aggregate([_result(True, 1.0)], 1.0) == (True, 1.0)
    # Weights summing to 0: promptfoo's score is 0, so only a threshold of 0 passes.
    weightless = [_result(True, 1.0, 0), _result(True, 1.0, 0)]
    assert aggregate(weightless, 0.5)[0] is False
    assert aggregate(weightless, 0.0)[0] is True
    assert aggregate([], 0.9) == (True, 1.0)
