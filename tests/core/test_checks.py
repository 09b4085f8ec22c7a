from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import aggregate, run_check
from llmbench.core.evaluation.check_spec import (
    CHECK_KINDS,
    JUDGE_KIND,
    TOOL_CHECK_KINDS,
    CheckContext,
    CheckError,
    CheckResult,
    CheckSpec,
    check_to_data,
)
from llmbench.core.evaluation.refusal_and_pii import find_pii

CONTEXT = CheckContext(
    expected="The refund for order AB-1234 is on its way.",
    latency_ms=250.0,
    cost=0.004,
    model="gpt-4o-mini",
    variables={"reference": "AB-1234", "name": "Dana"},
)
INVOICE_SCHEMA = {
    "type": "object",
    "required": ["invoice_number", "total"],
    "properties": {
        "invoice_number": {"type": "string", "pattern": "^INV-\\d+$"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD"]},
        "lines": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
    },
    "additionalProperties": False,
}

# (the check as a suite writes it, an output that passes, an output that fails)
CASES: list[tuple[dict[str, object], str, str]] = [
    ({"type": "equals", "value": "Paris"}, "  Paris\n", "Paris, France"),
    ({"type": "equals"}, "The refund for order AB-1234 is on its way.", "Refund sent."),
    ({"type": "equals", "value": {"a": 1, "b": [1, 2]}}, '{"b": [1, 2], "a": 1}', '{"a": 1}'),
    ({"type": "contains", "value": "{{ reference }}"}, "Order AB-1234 refunded", "Order refunded"),
    ({"type": "icontains", "value": "REFUND"}, "your refund", "your money"),
    ({"type": "contains-any", "value": ["refund", "credit"]}, "a credit note", "a discount"),
    ({"type": "icontains-any", "value": "Refund, Credit"}, "A CREDIT NOTE", "a discount"),
    ({"type": "contains-all", "value": ["Dana", "AB-1234"]}, "Hi Dana, AB-1234", "Hi Dana"),
    ({"type": "starts-with", "value": "Hi {{ name }}"}, "\nHi Dana, thanks", "Hello Dana"),
    ({"type": "regex", "value": r"INV-\d{4}"}, "see INV-2024", "see INV-24"),
    ({"type": "regex", "value": "^hello", "ignore_case": True}, "Hello there", "Oh, hello"),
    ({"type": "is-json"}, '{"a": [1, 2]}', "```json\n{}\n```"),
    (
        {"type": "json-schema", "value": INVOICE_SCHEMA},
        '{"invoice_number": "INV-7", "total": 12.5, "currency": "EUR", "lines": [1, 2]}',
        '{"invoice_number": "INV-7", "total": "12.50"}',
    ),
    ({"type": "length", "max": 10}, "short", "far too long for this"),
    ({"type": "contains-json"}, 'Here: {"a": 1', "no braces here"),
    ({"type": "is-xml", "value": "order.id"}, "<order><id>7</id></order>", "<order><id>7</order>"),
    ({"type": "contains-xml"}, "Sure: <a><b/></a> done", "a < b and c > d"),
    ({"type": "is-sql"}, "SELECT id, name FROM users", "SELECT first_name last_name FROM users"),
    ({"type": "contains-sql"}, "```sql\nSELECT 1\n```", "```sql\nSELECT * FORM t\n```"),
    ({"type": "rouge-n", "value": "{{ expected }}"}, CONTEXT.expected or "", "Nothing shared."),
    ({"type": "bleu"}, CONTEXT.expected or "", "refund"),
    ({"type": "levenshtein", "value": "Paris", "threshold": 1}, "paris", "London"),
    ({"type": "length", "min": 3, "unit": "tokens"}, "one two three four", "one"),
    ({"type": "max-length", "value": 5}, "12345", "123456"),
    ({"type": "banned-phrases", "value": ["as an AI", "guarantee"]}, "Sure.", "We GUARANTEE it"),
    ({"type": "pii-present"}, "write to dana@example.com", "no personal data here"),
    ({"type": "not-pii-present"}, "nothing to see", "card 4111 1111 1111 1111"),
    ({"type": "is-refusal"}, "I'm sorry, but I can't help with that.", "Here is the recipe."),
    ({"type": "similar", "threshold": 0.6}, "The refund for AB-1234 is on its way", "No idea"),
    (
        {"type": "similar", "value": "kitten", "method": "levenshtein", "threshold": 0.5},
        "sitting",
        "dog",
    ),
    ({"type": "not-contains", "value": "sorry"}, "Done.", "So sorry!"),
]


@pytest.mark.parametrize(("data", "passing", "failing"), CASES, ids=[str(c[0]) for c in CASES])
def test_every_check_passes_and_fails(data: dict[str, object], passing: str, failing: str) -> None:
    spec = parse_check(data)
    good = run_check(spec, passing, CONTEXT)
    bad = run_check(spec, failing, CONTEXT)
    assert good.passed, good
    assert good.score == 1.0 or spec.kind == "similar"
    assert not bad.passed, bad
    assert bad.score < good.score
    assert bad.detail


def test_every_kind_is_covered_by_the_table() -> None:
    covered = {parse_check(data).kind for data, _, _ in CASES}
    limits = {"latency-le", "cost-le"}  # tested below: they read the context, not the output
    # Tool calls and the response format sent are in the context too: test_tool_checks.py.
    assert covered | limits | set(TOOL_CHECK_KINDS) == set(CHECK_KINDS)


@pytest.mark.parametrize(
    ("data", "context", "passed", "score"),
    [
        ({"type": "latency-le", "value": 300}, CheckContext(latency_ms=250), True, 1.0),
        ({"type": "latency-le", "value": 100}, CheckContext(latency_ms=250), False, 0.4),
        ({"type": "latency", "threshold": 500}, CheckContext(latency_ms=250), True, 1.0),
        ({"type": "latency-le", "value": 100}, CheckContext(), False, 0.0),
        ({"type": "cost-le", "value": 0.01}, CheckContext(cost=0.004), True, 1.0),
        ({"type": "cost", "threshold": 0.002}, CheckContext(cost=0.004), False, 0.5),
        ({"type": "cost-le", "value": 0.01}, CheckContext(cost=None), False, 0.0),
        ({"type": "cost-le", "value": 0}, CheckContext(cost=0.0), True, 1.0),
    ],
)
def test_latency_and_cost_limits(
    data: dict[str, object], context: CheckContext, passed: bool, score: float
) -> None:
    result = run_check(parse_check(data), "anything", context)
    assert (result.passed, result.score) == (passed, pytest.approx(score))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "javascript", "value": "file://check.txt"}, "must end in .js"),
        ({"type": "python", "value": ""}, "needs code or file://path"),
        ({"type": "webhook", "value": "http://x"}, "not supported"),
        ({"type": "no-such-check"}, "not supported"),
        ({"value": "x"}, "needs a type"),
        ({"type": "contains", "kind": "regex", "value": "x"}, "either type or kind"),
        ({"type": "equals", "value": ""}, "non-empty text"),
        ({"type": "equals", "value": {"bad": {1, 2}}}, "not JSON data"),
        ({"type": "contains", "value": ["a"]}, "non-empty text"),
        ({"type": "icontains", "value": True}, "non-empty text"),
        ({"type": "contains-any", "value": 3}, "list of phrases"),
        ({"type": "contains-all", "value": []}, "at least one phrase"),
        ({"type": "contains-all", "value": ["a", ""]}, "non-empty text"),
        ({"type": "contains-any", "value": ["a"], "ignore_case": "yes"}, "true or false"),
        ({"type": "starts-with"}, "non-empty text"),
        ({"type": "regex", "value": "(unclosed"}, "bad regular expression"),
        ({"type": "is-json", "value": "not a schema"}, "not valid JSON"),
        ({"type": "json-schema", "value": {"$ref": "#/defs/x"}}, "'$ref' is not supported"),
        ({"type": "json-schema", "value": {"type": "objekt"}}, "type must be"),
        ({"type": "json-schema", "value": {"properties": {"a": {"format": "email"}}}}, "format"),
        ({"type": "json-schema", "value": {"minLength": -1}}, "minLength"),
        ({"type": "json-schema", "value": [1]}, "JSON Schema object"),
        ({"type": "length"}, "min, max or both"),
        ({"type": "length", "min": 5, "max": 2}, "above max"),
        ({"type": "length", "max": 2.5}, "whole number"),
        ({"type": "length", "max": 5, "unit": "words"}, "chars or tokens"),
        ({"type": "length", "value": 5}, "takes no value"),
        ({"type": "max-length"}, "needs a value"),
        ({"type": "banned-phrases", "value": None}, "list of phrases"),
        ({"type": "pii-present", "kinds": ["passport"]}, "unknown PII kind"),
        ({"type": "latency-le", "value": "fast"}, "must be a number"),
        ({"type": "latency"}, "limit in threshold"),
        ({"type": "cost-le", "value": -1}, "0 or more"),
        ({"type": "is-refusal", "value": "x"}, "takes no value"),
        ({"type": "similar", "method": "bleu"}, "method must be"),
        ({"type": "similar", "threshold": 2}, "between 0 and 1"),
        ({"type": "contains", "value": "x", "weight": -1}, "weight"),
        ({"type": "contains", "value": "x", "weight": float("nan")}, "finite"),
        ({"type": "contains", "value": "x", "negate": "no"}, "true or false"),
        ({"type": "contains", "value": "x", "transform": "file://t.rb"}, "must end in"),
        ({"type": "llm-rubric", "value": 3}, "rubric text"),
        ({"type": "levenshtein", "value": "x", "threshold": -1}, "edit distance"),
        ({"type": "is-sql", "value": {"databaseType": "Oracle9"}}, "databaseType"),
        ({"type": "is-sql", "value": {"allowedTables": ["(unclosed"]}}, "bad pattern"),
        ({"type": "is-xml", "value": {"elements": ["a"]}}, "requiredElements"),
        ({"type": "contains-json", "value": {"type": "objekt"}}, "type must be"),
        ({"type": "model-graded-closedqa"}, "the criterion"),
        ({"type": "answer-relevance", "value": "x"}, "takes no value"),
        ({"type": "not-select-best", "value": "funniest"}, "cannot be negated"),
    ],
)
def test_malformed_checks_are_refused_with_where(data: dict[str, object], message: str) -> None:
    with pytest.raises(CheckError) as raised:
        parse_check(data, where="suite.yaml:12")
    assert str(raised.value).startswith("suite.yaml:12: ")
    assert message in str(raised.value)


def test_a_check_that_is_not_a_mapping() -> None:
    with pytest.raises(CheckError, match="must be a mapping"):
        parse_check(["contains", "x"])  # type: ignore[arg-type]


def test_llm_rubric_becomes_a_judge_spec_that_run_check_does_not_grade() -> None:
    spec = parse_check({"type": "llm-rubric", "value": "is funny", "threshold": 0.5})
    assert (spec.kind, spec.value, spec.threshold) == (JUDGE_KIND, "is funny", 0.5)
    result = run_check(spec, "a joke", CONTEXT)
    assert not result.passed and "judge" in result.detail


def test_negation_weight_threshold_and_labels() -> None:
    spec = parse_check(
        {"type": "contains-all", "value": ["a", "b", "c", "d"], "weight": 2, "metric": "cover"}
    )
    assert spec.options["metric"] == "cover" and spec.weight == 2.0
    partial = run_check(spec, "a b c", CONTEXT)
    assert (partial.passed, partial.score, partial.weight) == (False, 0.75, 2.0)
    lenient = parse_check({"type": "contains-all", "value": ["a", "b", "c", "d"], "threshold": 0.7})
    assert run_check(lenient, "a b c", CONTEXT).passed
    negated = parse_check({"type": "contains-all", "value": ["a", "b", "c", "d"], "negate": True})
    result = run_check(negated, "a b c", CONTEXT)
    assert (result.passed, result.score) == (True, 0.25)
    assert result.detail.startswith("not: ")
    # not-similar passes when the output is farther from the reference than the threshold
    unlike = parse_check({"type": "not-similar", "value": "the cat sat", "threshold": 0.5})
    assert run_check(unlike, "dogs bark loudly", CONTEXT).passed
    assert not run_check(unlike, "the cat sat", CONTEXT).passed


def test_templates_see_the_expected_answer_parsed_as_json() -> None:
    spec = parse_check({"type": "contains", "value": "{{ expected.invoice_number }}"})
    context = CheckContext(expected='{"invoice_number": "INV-9"}')
    assert run_check(spec, "invoice INV-9", context).passed
    # an undefined variable fails the check with the reason, it does not raise
    broken = run_check(spec, "invoice INV-9", CheckContext(expected="plain text"))
    assert not broken.passed and "cannot run" in broken.detail


def test_checks_that_need_an_expected_answer_fail_without_one() -> None:
    for data in ({"type": "equals"}, {"type": "similar"}, {"type": "contains"}):
        result = run_check(parse_check(data), "anything", CheckContext())
        assert not result.passed and "no expected answer" in result.detail


def test_json_schema_details_name_the_first_problem() -> None:
    spec = parse_check({"type": "json-schema", "value": json.dumps(INVOICE_SCHEMA)})
    cases = {
        '{"invoice_number": "INV-7"}': "missing required 'total'",
        '{"invoice_number": "X-7", "total": 1}': "does not match",
        '{"invoice_number": "INV-7", "total": -1}': "is not >= 0",
        '{"invoice_number": "INV-7", "total": 1, "currency": "GBP"}': "must be one of",
        '{"invoice_number": "INV-7", "total": 1, "lines": [1.5]}': "lines[0]: expected integer",
        '{"invoice_number": "INV-7", "total": 1, "x": 0}': "unexpected property 'x'",
        '{"invoice_number": "INV-7", "total": true}': "expected number, got boolean",
        "[1]": "expected object, got array",
        "not json": "not JSON",
    }
    for output, detail in cases.items():
        result = run_check(spec, output, CONTEXT)
        assert not result.passed and detail in result.detail, (output, result.detail)


def test_json_schema_combinators() -> None:
    schema = {
        "anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "maximum": 9}],
        "not_used": None,
    }
    with pytest.raises(CheckError, match="not_used"):
        parse_check({"type": "json-schema", "value": schema})
    del schema["not_used"]
    spec = parse_check({"type": "json-schema", "value": schema})
    assert [run_check(spec, text, CONTEXT).passed for text in ('"abc"', "7", "7.0")] == [
        True,
        True,
        True,  # 7.0 is an integer to JSON Schema
    ]
    assert [run_check(spec, text, CONTEXT).passed for text in ('"abcd"', "10", "true")] == [
        False,
        False,
        False,
    ]
    one_of = parse_check(
        {"type": "json-schema", "value": {"oneOf": [{"minimum": 0}, {"maximum": 10}]}}
    )
    assert not run_check(one_of, "5", CONTEXT).passed  # both match
    assert run_check(one_of, "50", CONTEXT).passed
    huge = parse_check({"type": "json-schema", "value": {"type": "integer"}})
    assert run_check(huge, "9" * 400, CONTEXT).passed  # beyond any float
    const = parse_check({"type": "json-schema", "value": {"const": 1}})
    assert run_check(const, "1.0", CONTEXT).passed
    assert not run_check(const, "true", CONTEXT).passed


def test_pii_detector() -> None:
    assert find_pii("mail dana.r@example.co.uk now") == ["email"]
    assert find_pii("call +44 20 7946 0958 or (555) 123-4567") == ["phone", "phone"]
    assert find_pii("card 4111-1111-1111-1111") == ["credit_card"]
    # not Luhn-valid, a bare order number, a date: none is PII; an IP address is, as the output
    # guard says (issue #18: the check passed it while the guard flagged it)
    assert find_pii("card 4111 1111 1111 1112, order 1234567890, 2024-11-27") == []
    assert find_pii("host 192.168.10.200") == ["ip_address"]
    spec = parse_check({"type": "pii-present", "kinds": ["email"]})
    assert not run_check(spec, "call (555) 123-4567", CONTEXT).passed


def test_refusal_detector_keeps_ordinary_cant_apart() -> None:
    spec = parse_check({"type": "is-refusal"})
    refusals = [
        "I cannot help with that request.",
        "As an AI language model, I have no opinions.",
        "I must decline.",
        "I’m not able to provide that.",
        "That is against my guidelines.",
        "   ",
    ]
    answers = ["I can't wait to see it!", "You cannot return opened items.", "Sure: 42."]
    assert all(run_check(spec, text, CONTEXT).passed for text in refusals)
    assert not any(run_check(spec, text, CONTEXT).passed for text in answers)


def test_length_in_tokens_counts_with_the_model_tokenizer() -> None:
    spec = parse_check({"type": "length", "max": 2, "unit": "tokens", "model": "gpt-4o"})
    result = run_check(spec, "hello world again", CONTEXT)
    assert not result.passed and result.detail.startswith("3 tokens")
    assert result.score == pytest.approx(2 / 3)


def test_aggregate_all_must_pass_and_weights_count() -> None:
    results = [
        CheckResult("a", True, 1.0, "", 3.0),
        CheckResult("b", False, 0.0, "", 1.0),
    ]
    assert aggregate(results) == (False, 0.75)
    assert aggregate(results[:1]) == (True, 1.0)
    assert aggregate([]) == (True, 1.0)
    zero = [CheckResult("a", True, 1.0, "", 0.0), CheckResult("b", True, 0.5, "", 0.0)]
    assert aggregate(zero) == (True, 0.75)


def test_specs_round_trip_and_hash() -> None:
    for data, _, _ in CASES:
        spec = parse_check(data)
        assert parse_check(check_to_data(spec)) == spec
        assert hash(spec) == hash(parse_check(data))
    assert len({parse_check(CASES[0][0]), parse_check(CASES[0][0])}) == 1


def test_a_spec_built_in_code_that_cannot_run_fails_instead_of_raising() -> None:
    for spec in (
        CheckSpec("regex", "("),
        CheckSpec("no-such-kind"),
        CheckSpec("length"),
        CheckSpec("contains", value=["a"]),
    ):
        result = run_check(spec, "text", CONTEXT)
        assert not result.passed and result.detail.startswith("cannot run")


def _specs() -> list[CheckSpec]:
    return [parse_check(data) for data, _, _ in CASES] + [
        parse_check({"type": "latency-le", "value": 1}),
        parse_check({"type": "cost-le", "value": 1}),
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.sampled_from(
            ["9" * 400, "[" * 50_000, '{"a":' * 20_000, "\x00\ud800", "1e999", "-" * 10_000]
        ),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
            max_leaves=10,
        ).map(lambda value: json.dumps(value)),
    )
)
def test_no_output_makes_a_check_raise(output: str) -> None:
    for spec in _specs():
        result = run_check(spec, output, CONTEXT)
        assert 0.0 <= result.score <= 1.0
        assert isinstance(result.detail, str)
