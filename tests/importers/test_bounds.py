"""The bounds every importer reads through: nesting depth of JSON and YAML (with the line where
the limit is passed), YAML aliases that hold themselves or expand without end, and integers
beyond SQLite's 64 bits."""

from __future__ import annotations

import json

import pytest
import yaml

from llmbench.importers.bounds import (
    MAX_INTEGER,
    MAX_NESTING,
    BoundExceeded,
    NestingError,
    compose_yaml,
    integer_problem,
    load_json,
    load_yaml,
)


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_json_nested_to_the_limit_is_read_and_one_level_more_is_refused() -> None:
    assert load_json(_nested(MAX_NESTING)) is not None
    with pytest.raises(NestingError) as refused:
        load_json(_nested(MAX_NESTING + 1))
    assert refused.value.line == 1 and str(refused.value).startswith("nested deeper than 100")
    with pytest.raises(NestingError):
        load_json(_nested(200_000))  # beyond the interpreter's recursion limit


def test_the_line_is_where_the_limit_is_passed_and_brackets_in_text_do_not_count() -> None:
    text = '{"note": "[[[[ \\" {{{{",\n "deep":\n' + "[\n" * 150 + "]" * 150 + "}"
    with pytest.raises(NestingError) as refused:
        load_json(text)
    assert refused.value.line == 3 + MAX_NESTING - 1  # the object is level 1
    wide = json.dumps([[index] for index in range(1_000)])  # many brackets, two levels
    assert len(load_json(wide)) == 1_000


def test_yaml_nested_too_deep_is_refused_at_its_line() -> None:
    assert load_yaml("a: " + _nested(MAX_NESTING - 1)) is not None
    text = "a:\n  b: " + "[\n    " * 200 + "]" * 200
    with pytest.raises(BoundExceeded) as refused:
        compose_yaml(text)
    assert refused.value.problem == "nested deeper than 100 levels of lists and objects"
    assert refused.value.problem_mark is not None
    assert refused.value.problem_mark.line + 1 == 2 + MAX_NESTING - 2


@pytest.mark.parametrize(
    "text",
    ["a: &a [*a]\n", "a: &a {b: [1, {c: *a}]}\n", "- &x\n  - *x\n"],
)
def test_an_alias_inside_the_value_it_names_is_refused(text: str) -> None:
    with pytest.raises(BoundExceeded, match="is inside the value it names"):
        load_yaml(text)


def test_aliases_that_expand_without_end_are_refused_and_ordinary_ones_read() -> None:
    levels = "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefg", "bcdefgh", strict=True)
    )
    with pytest.raises(BoundExceeded, match="aliases expand to more than 1,000,000 values"):
        load_yaml("a: &a [x, x, x, x, x, x, x, x, x]\n" + levels)
    shared = load_yaml("base: &base {model: gpt-4o, temperature: 0}\none: *base\ntwo: *base\n")
    assert shared["one"] == shared["two"] == {"model": "gpt-4o", "temperature": 0}
    with pytest.raises(yaml.YAMLError):  # still a YAML error for callers that catch those
        load_yaml("a: &a [*a]\n")


def test_integers_beyond_64_bits_have_a_problem() -> None:
    assert integer_problem(MAX_INTEGER, "n") is None
    assert integer_problem(-MAX_INTEGER - 1, "n") is None
    assert integer_problem(MAX_INTEGER + 1, "version") == (
        "version is out of range: a stored number is at most 9,223,372,036,854,775,807 (64 bits)"
    )
    assert integer_problem(-(10**30), "n") is not None
