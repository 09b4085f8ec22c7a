"""promptfoo's deterministic assertions scored as promptfoo scores them, against what its own
code and libraries computed (tests/data/reference_scores: js-rouge 3.2.3, promptfoo 0.123.1's
BLEU, node-sql-parser 5.4.0 run under node), and the checks' promptfoo semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmbench.core.evaluation.check_parsing import parse_check
from llmbench.core.evaluation.check_runner import run_check
from llmbench.core.evaluation.check_spec import CheckContext
from llmbench.core.evaluation.reference_metrics import bleu, rouge_n
from llmbench.core.evaluation.sql_checks import contains_sql, is_sql, sql_blocks
from llmbench.core.evaluation.structured_checks import contains_xml, is_xml, json_objects

DATA = Path(__file__).parents[1] / "data" / "reference_scores"
SCORES = json.loads((DATA / "promptfoo_0.123.1.json").read_text(encoding="utf-8"))
SQL_CASES = json.loads((DATA / "node_sql_parser_5.4.0.json").read_text(encoding="utf-8"))["cases"]
TEXTS: list[str] = SCORES["texts"]
CONTEXT = CheckContext()


def test_rouge_n_matches_js_rouge_on_900_pairs() -> None:
    exact = verdicts = 0
    for i, candidate in enumerate(TEXTS):
        for j, reference in enumerate(TEXTS):
            theirs = SCORES["rouge_n"][i][j]
            ours = rouge_n(candidate, reference)
            exact += abs(ours - theirs) < 1e-9
            verdicts += (ours >= 0.75) == (theirs >= 0.75)
    # Two pairs differ: js-rouge's quote rules inside a JSON snippet. No verdict differs.
    assert (exact, verdicts) == (898, 900)


def test_bleu_is_promptfoos_to_the_last_digit() -> None:
    for i, candidate in enumerate(TEXTS):
        for j, reference in enumerate(TEXTS):
            assert bleu(candidate, [reference]) == pytest.approx(SCORES["bleu"][i][j], abs=1e-12)
    for candidate, references, theirs in SCORES["bleu_multi_reference"]:
        assert bleu(candidate, references) == pytest.approx(theirs, abs=1e-12)


def test_sql_verdicts_match_promptfoo_with_node_sql_parser() -> None:
    disagreements = [
        case
        for case in SQL_CASES
        if is_sql(case["sql"], {"databaseType": case["databaseType"]})[0] != case["promptfoo"]
    ]
    assert disagreements == []
    assert len(SQL_CASES) == 100


@pytest.mark.parametrize(
    ("data", "output", "passed", "score"),
    [
        # promptfoo compares before negating: not-rouge-n passes below the threshold.
        ({"type": "not-rouge-n", "value": "the cat sat"}, "a dog ran", True, 1.0),
        ({"type": "rouge-n", "value": "the cat sat", "threshold": 0.3}, "the cat ran", True, 2 / 3),
        ({"type": "rouge-n", "value": "the cat sat"}, "", False, 0.0),
        ({"type": "bleu", "value": ["a b c d", "the cat sat on the mat"]}, "the cat sat on the mat",
         True, 1.0),
        ({"type": "levenshtein", "value": "kitten"}, "sitting", True, 1.0),  # 3 <= 5
        ({"type": "levenshtein", "value": "kitten", "threshold": 2}, "sitting", False, 0.0),
        ({"type": "not-levenshtein", "value": "kitten", "threshold": 2}, "sitting", True, 1.0),
        ({"type": "levenshtein", "value": "kitten", "threshold": 0}, "kitten", True, 1.0),
    ],
)  # fmt: skip
def test_reference_checks_follow_promptfoo(
    data: dict[str, object], output: str, passed: bool, score: float
) -> None:
    result = run_check(parse_check(data), output, CONTEXT)
    assert (result.passed, result.score) == (passed, pytest.approx(score))


def test_levenshtein_is_a_distance_not_an_approximation() -> None:
    # The old mapping to `similar` passed this (similarity 0.69 >= 1 - 5/13): distance is 6.
    result = run_check(
        parse_check({"type": "levenshtein", "value": "Paris, France"}), "paris, fr", CONTEXT
    )
    assert not result.passed and "edit distance 6" in result.detail


def test_json_objects_as_promptfoo_extracts_them() -> None:
    text = 'Sure: {"a": 1} then {name: "x", // the name\n n: [1, 2]} and a cut-off {"b": {"c": 2'
    assert json_objects(text) == [{"a": 1}, {"name": "x", "n": [1, 2]}, {"b": {"c": 2}}]
    assert json_objects("no braces here, or { [ } broken ones") == []
    # As js-yaml reads it for promptfoo, prose in braces is a mapping with one null key.
    assert json_objects("{ not json at all}") == [{"not json at all": None}]


def test_contains_json_with_a_schema_needs_one_matching_object() -> None:
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    spec = parse_check({"type": "contains-json", "value": schema})
    assert run_check(spec, 'x {"name": 1} y {"id": 7}', CONTEXT).passed
    failed = run_check(spec, 'x {"id": "seven"}', CONTEXT)
    assert not failed.passed and "schema" in failed.detail


def test_xml_checks_with_required_elements() -> None:
    document = "<analysis><summary>ok</summary><sentiment>positive</sentiment></analysis>"
    assert is_xml(document, ("analysis.summary", "analysis.sentiment"))[0]
    assert is_xml(document, ("analysis.score",)) == (
        False,
        "XML is missing required elements: analysis.score",
    )
    assert not is_xml("Here it is: " + document, ())[0]  # is-xml wants the whole output
    assert contains_xml("Here it is: " + document + " done", ("analysis.summary",))[0]
    assert not contains_xml("<a><b></a>", ())[0]
    # A DTD internal subset is refused, so no entity can expand ("billion laughs").
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert is_xml(bomb, ()) == (False, "DTD internal subsets are not supported")
    spec = parse_check({"type": "contains-xml", "value": {"requiredElements": ["a.b"]}})
    assert run_check(spec, "text <a><b>1</b></a>", CONTEXT).passed


def test_sql_whitelists_and_fences() -> None:
    value = {"allowedTables": ["(select|update|insert|delete)::null::departments"]}
    assert is_sql("SELECT * FROM departments", value)[0]
    assert is_sql("SELECT * FROM employees", value) == (
        False,
        "unauthorized table(s): select::null::employees",
    )
    columns = {"allowedColumns": ["insert::department::dept_name", "insert::department::location"]}
    assert is_sql("INSERT INTO department (dept_name, location) VALUES ('S', 'NY')", columns)[0]
    assert not is_sql("SELECT id FROM t", {"allowedColumns": ["select::null::name"]})[0]
    answer = "Result:\n```sql\nSELECT DISTINCT name FROM users\n```\nand ```python\nx = 1\n```"
    assert sql_blocks(answer) == ["SELECT DISTINCT name FROM users"]
    assert contains_sql(answer, None)[0]
    assert not contains_sql("```sql\nSELECT first_name last_name FROM employees\n```", None)[0]
    postgres = {"databaseType": "PostgreSQL"}
    assert is_sql("SELECT name FROM users WHERE email ILIKE '%x'", postgres)[0]
    assert not is_sql("SELECT name FROM users WHERE email ILIKE '%x'", None)[0]
