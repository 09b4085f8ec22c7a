"""Dataset files: promptfoo CSV columns and JSON lines read into cases, every bad row reported as
file:line, and exports that read back exactly."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.models import Case
from llmbench.importers.dataset_files import (
    CaseRecord,
    DatasetFileError,
    ExportRefused,
    read_dataset_file,
    write_csv,
    write_jsonl,
)
from llmbench.importers.promptfoo.assertion_strings import FormError, check_from_form, form_of


def _read(tmp_path: Path, name: str, text: str | bytes) -> list[CaseRecord]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return read_dataset_file(path, name)


def _problems(tmp_path: Path, name: str, text: str | bytes) -> list[str]:
    with pytest.raises(DatasetFileError) as caught:
        _read(tmp_path, name, text)
    return [str(problem) for problem in caught.value.problems]


PROMPTFOO_CSV = """\
question,language,__expected,__expected2,__description,__metadata:difficulty,__tags
What is 2+2?,en,4,contains: four,sums,easy,task_type=math;failure_mode=none
"Capital of France?",fr,contains: Paris,not-icontains: sorry,,hard,
"Say ""hi""
on two lines",es,"icontains-any: hola, buenas",similar(0.9): hola amigo,,,
"""


def test_a_promptfoo_csv_becomes_cases_with_golden_answers_checks_and_tags(
    tmp_path: Path,
) -> None:
    records = _read(tmp_path, "tests.csv", PROMPTFOO_CSV)
    assert [(r.vars, r.expected, r.tags, r.checks, r.where) for r in records] == [
        (
            {"question": "What is 2+2?", "language": "en"},
            "4",
            {"description": "sums", "difficulty": "easy", "task_type": "math",
             "failure_mode": "none"},
            ({"kind": "contains", "value": "four"},),
            "tests.csv:2",
        ),
        (
            {"question": "Capital of France?", "language": "fr"},
            None,
            {"difficulty": "hard"},
            ({"kind": "contains", "value": "Paris"},
             {"kind": "icontains", "value": "sorry", "negate": True}),
            "tests.csv:3",
        ),
        (
            {"question": 'Say "hi"\non two lines', "language": "es"},
            None,
            {},
            ({"kind": "contains-any", "value": ["hola", "buenas"], "ignore_case": True},
             {"kind": "similar", "value": "hola amigo", "threshold": 0.9}),
            "tests.csv:4",
        ),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "check"),
    [
        ("equals: 30", {"kind": "equals", "value": "30"}),
        ("equals", {"kind": "equals"}),
        ("contains-all: a,b", {"kind": "contains-all", "value": ["a", "b"]}),
        ("icontains-all: A", {"kind": "contains-all", "value": ["A"], "ignore_case": True}),
        ("starts-with: Dear", {"kind": "starts-with", "value": "Dear"}),
        (r"regex: ^\d+:\d+$", {"kind": "regex", "value": r"^\d+:\d+$"}),
        ("is-json", {"kind": "is-json"}),
        ('is-json: {"type": "object"}', {"kind": "json-schema", "value": {"type": "object"}}),
        ("not-is-refusal", {"kind": "is-refusal", "negate": True}),
        ("latency(500)", {"kind": "latency-le", "value": 500}),
        ("latency: 500", {"kind": "latency-le", "value": 500}),
        ("cost: 0.002", {"kind": "cost-le", "value": 0.002}),
        ("llm-rubric: Is polite", {"kind": "judge", "value": "Is polite"}),
        ("grade: Is polite", {"kind": "judge", "value": "Is polite"}),
        ("similar: close to this", {"kind": "similar", "value": "close to this",
                                    "threshold": 0.75}),
    ],
)  # fmt: skip
def test_each_convertible_assertion_form(cell: str, check: dict[str, Any]) -> None:
    assert check_from_form(cell) == check
    assert check_from_form(form_of(check) or "") == check


@pytest.mark.parametrize(
    ("cell", "named"),
    [
        ("javascript: output.length < 10", "'javascript:' (javascript code)"),
        ("fn: output.length", "'fn:' (javascript code)"),
        ("python: len(output) < 10", "'python:' (Python code)"),
        ("file://checks/grade.py", "'python:' (Python code)"),
        ("file://assert.js", "'file://assert.js' (an external assertion file)"),
        ("rouge-n: reference", "promptfoo's 'rouge-n' assertion has no llmbench check"),
        ("not-moderation", "promptfoo's 'moderation' assertion has no llmbench check"),
        ("contains-json", "promptfoo's 'contains-json' assertion has no llmbench check"),
    ],
)
def test_forms_that_cannot_be_converted_are_refused_by_name(cell: str, named: str) -> None:
    with pytest.raises(FormError) as caught:
        check_from_form(cell)
    assert named in str(caught.value)


def test_prose_is_a_golden_answer_not_a_check() -> None:
    for text in ("Paris", "Contains: Paris", " contains: x", "answer: yes", "grader: no"):
        assert check_from_form(text) is None


def test_every_bad_row_is_reported_with_its_line_and_no_case_is_returned(
    tmp_path: Path,
) -> None:
    text = (
        "question,__expected,__expected2,__tags,__prefix\n"
        "ok,4,,,\n"
        "short row\n"
        '"two\nlines",javascript: 1,,,\n'
        "both,Paris,London,,\n"
        "tags,,,task_type,\n"
        "limit,cost: about $5,,,\n"
        "regex,regex: (,,,\n"
        "pre,,,,Answer briefly:\n"
    )
    assert _problems(tmp_path, "bad.csv", text) == [
        "bad.csv:1: column __prefix (promptfoo's prompt prefix) cannot be converted into a "
        "case; remove it (1 row use it)",
        "bad.csv:3: 1 fields where the header has 5",
        "bad.csv:4: __expected: 'javascript:' (javascript code) cannot be converted: llmbench "
        "runs no code from a data file; write it as a check (contains, regex, is-json, "
        "llm-rubric, ...)",
        "bad.csv:6: two golden answers (__expected and __expected2): keep one, and write the "
        "other as a check (equals: ..., contains: ...)",
        "bad.csv:7: __tags: 'task_type' is not name=value (task_type=summary;...)",
        "bad.csv:8: __expected: cost needs its limit as a number: cost: 500 or cost(500); a "
        "golden answer that starts like an assertion goes in a __golden column",
        "bad.csv:9: __expected: check 'regex': bad regular expression: missing ), unterminated "
        "subpattern at position 0; a golden answer that starts like an assertion goes in a "
        "__golden column",
    ]


def test_bad_headers_are_reported_on_line_one(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "h.csv", "a,a,,__metadata:,__weird\n1,2,3,4,5\n")
    assert problems == [
        "h.csv:1: column 'a' appears twice in the header",
        "h.csv:1: a column has no name in the header",
        "h.csv:1: column '__metadata:' names no metadata field",
        "h.csv:1: unknown special column '__weird' (known: __expected, __expected1.., "
        "__description, __metadata:NAME, __tags, __golden, __checks)",
    ]


def test_jsonl_cases_and_their_problems(tmp_path: Path) -> None:
    good = (
        '{"vars": {"ticket": "refund me", "n": 3}, "expected": "refund", '
        '"tags": {"task_type": "billing"}, "checks": [{"type": "icontains", "value": "refund"}]}\n'
        "\n"
        '{"vars": {"ticket": "hi"}, "expected": {"id": 7}, "description": "json golden"}\n'
    )
    records = _read(tmp_path, "good.jsonl", good)
    assert [(r.vars, r.expected, r.tags, r.checks, r.where) for r in records] == [
        ({"ticket": "refund me", "n": 3}, "refund", {"task_type": "billing"},
         ({"kind": "icontains", "value": "refund"},), "good.jsonl:1"),
        ({"ticket": "hi"}, '{"id": 7}', {"description": "json golden"}, (), "good.jsonl:3"),
    ]  # fmt: skip
    bad = (
        '{"vars": {"a": "1"}}\n'
        "not json\n"
        "[1, 2]\n"
        '{"vars": "x", "extra": 1}\n'
        '{"vars": {}, "tags": {"n": 1}, "checks": [{"type": "webhook"}]}\n'
    )
    assert _problems(tmp_path, "bad.jsonl", bad) == [
        "bad.jsonl:2: not JSON: Expecting value: line 1 column 1 (char 0)",
        'bad.jsonl:3: each line must be a JSON object: {"vars": {...}, "expected": ...}',
        "bad.jsonl:4: unknown field 'extra' (known: vars, expected, tags, checks, description,"
        " tools, tool_choice)",
        'bad.jsonl:4: needs "vars", an object of the case\'s variables',
        'bad.jsonl:5: "tags" must be an object of text values',
        "bad.jsonl:5: checks 1: check 'webhook': this check type is not supported "
        "(supported: equals, contains, icontains, contains-any, contains-all, starts-with, "
        "regex, is-json, json-schema, length, banned-phrases, pii-present, latency-le, cost-le, "
        "is-refusal, similar, contains-json, is-xml, contains-xml, is-sql, contains-sql, "
        "rouge-n, bleu, levenshtein, tool-call, tool-call-f1, is-valid-openai-tools-call, "
        "is-valid-openai-function-call, is-valid-function-call, matches-response-format, "
        "llm-rubric, python, javascript, factuality, "
        "model-graded-closedqa, answer-relevance, context-faithfulness, context-recall, "
        "context-relevance, g-eval, select-best, and not- before any of them)",
    ]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("empty.csv", "", "empty.csv:1: the file is empty: no cases to import"),
        ("header.csv", "question,__expected\n", "header.csv:1: no cases: the file has a header"
         " but no rows"),
        ("blank.jsonl", "\n  \n", "blank.jsonl:1: the file is empty: no cases to import"),
        ("latin.csv", "q\ncaf\xe9\n".encode("latin-1"), "latin.csv:2: not UTF-8 text"),
        ("cases.txt", "q\n1\n", "cases.txt:1: cases.txt: a dataset file ends in .csv or .jsonl"),
    ],
)  # fmt: skip
def test_empty_and_unreadable_files(
    tmp_path: Path, name: str, text: str | bytes, problem: str
) -> None:
    assert _problems(tmp_path, name, text) == [problem]


def test_unicode_survives_csv_with_a_bom_and_jsonl_with_line_separators(tmp_path: Path) -> None:
    [record] = _read(tmp_path, "u.csv", "\ufeffq,__expected\n日本語 ☃ 🧪,ça va\n".encode())
    assert record.vars == {"q": "日本語 ☃ 🧪"} and record.expected == "ça va"
    line = json.dumps({"vars": {"q": "a\u2028b 🧪"}, "expected": "é"}, ensure_ascii=False)
    [record] = _read(tmp_path, "u.jsonl", line + "\n")
    assert record.vars == {"q": "a\u2028b 🧪"} and record.where == "u.jsonl:1"


# -- round trips -----------------------------------------------------------------------------


def _case(number: int, **fields: Any) -> Case:
    return Case(id=number, dataset_id=1, **fields)


CASES = [
    _case(1, vars={"q": "What is 2+2?", "lang": "en"}, expected="4",
          tags={"task_type": "math", "description": "sums"},
          checks=({"kind": "contains", "value": "four"},
                  {"kind": "icontains", "value": "sorry", "negate": True})),
    # A golden answer that reads like an assertion, and checks no cell can hold.
    _case(2, vars={"q": "Pick, one\nor two", "lang": "日本"}, expected="contains: the word",
          tags={"difficulty": "hard"},
          checks=({"kind": "contains", "value": "x", "weight": 2.0},
                  {"kind": "length", "max": 10, "unit": "chars"})),
    _case(3, vars={"q": "", "lang": " padded "}, expected=None, tags={}, checks=()),
    _case(4, vars={"q": "json", "lang": "en"}, expected='{"a": 1}', tags={},
          checks=({"kind": "json-schema", "value": {"type": "object"}},
                  {"kind": "contains-any", "value": ["a", "b"], "ignore_case": True},
                  {"kind": "similar", "value": "near", "threshold": 0.8},
                  {"kind": "latency-le", "value": 500}, {"kind": "judge", "value": "Polite?"})),
]  # fmt: skip


def _fields(case: Case | CaseRecord) -> tuple[Any, ...]:
    return (case.vars, case.expected, case.tags, tuple(case.checks))


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_then_import_gives_the_same_cases(tmp_path: Path, suffix: str) -> None:
    out = io.StringIO()
    (write_csv if suffix == "csv" else write_jsonl)(CASES, out)
    records = _read(tmp_path, f"round.{suffix}", out.getvalue())
    assert [_fields(record) for record in records] == [_fields(case) for case in CASES]


def test_csv_export_uses_promptfoo_columns_where_they_fit(tmp_path: Path) -> None:
    out = io.StringIO()
    write_csv(CASES[:2], out)
    header = out.getvalue().splitlines()[0]
    assert header == (
        "q,lang,__expected,__golden,__expected1,__expected2,__checks,__description,"
        "__metadata:task_type,__metadata:difficulty"
    )
    assert "not-icontains: sorry" in out.getvalue()


def test_csv_export_refuses_what_it_cannot_hold_exactly() -> None:
    cases = [
        _case(1, vars={"q": "a", "n": 3}),
        _case(2, vars={"q": "b"}, expected=""),
        _case(3, vars={"q": "c", "__x": "y"}),
    ]
    with pytest.raises(ExportRefused) as caught:
        write_csv(cases, io.StringIO())
    assert str(caught.value) == (
        "CSV cannot hold this dataset exactly: case 1: variable 'n' is not text; case 2 has "
        "other variables than case 1; case 2: an empty golden answer reads back as none "
        "(and 2 more); export to .jsonl"
    )
    write_jsonl(cases, io.StringIO())  # JSON lines keep everything


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_checks = st.lists(
    st.sampled_from(
        [{"kind": "contains", "value": "x"}, {"kind": "is-json"},
         {"kind": "regex", "value": "a|b", "ignore_case": True},
         {"kind": "banned-phrases", "value": ["no", "never"]}]
    ),
    max_size=3,
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _text,
            _text,
            st.none() | _text.filter(bool),
            st.dictionaries(st.sampled_from(["task_type", "difficulty"]), _text.filter(bool)),
            _checks,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_text_dataset_round_trips_through_csv(rows: list[tuple[Any, ...]]) -> None:
    cases = [
        _case(n, vars={"a": a, "b": b}, expected=expected, tags=tags, checks=tuple(checks))
        for n, (a, b, expected, tags, checks) in enumerate(rows, start=1)
    ]
    out = io.StringIO()
    write_csv(cases, out)
    from llmbench.importers.dataset_files import parse_csv

    records = parse_csv(out.getvalue(), "p.csv")
    assert [_fields(record) for record in records] == [_fields(case) for case in cases]
