"""The one test-case CSV reader (importers/case_csv.py): promptfoo's columns, the file's shape,
every problem with its line, and the three importers reading the same cell the same way (issue
#18: `__expected = "icontains: refund"` was a check in one and a literal answer in another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmbench.importers.case_csv import CaseTable, is_prose, read_case_csv
from llmbench.importers.case_csv_checks import LLMBENCH_COLUMNS, llmbench_cases
from llmbench.importers.dataset_files import DatasetFileError, read_dataset_file
from llmbench.importers.eval_suite import load_suite
from llmbench.importers.eval_suite_docs import SuiteError
from llmbench.importers.promptfoo.config import convert_file
from llmbench.importers.promptfoo.reading import PromptfooError


def _read(text: str, **options: object) -> CaseTable:
    return read_case_csv(text, "t.csv", **options)  # type: ignore[arg-type]


def _problems(table: CaseTable) -> list[str]:
    return [str(problem) for problem in table.problems]


# -- promptfoo's columns ---------------------------------------------------------------------


def test_every_promptfoo_column_is_read() -> None:
    text = (
        "question,__expected,__expected2,__description,__metric,__threshold,__prefix,__suffix,"
        "__providerOutput,__metadata:topic,__metadata:tags[],__config:__expected2:threshold\n"
        "What is 2+2?,4,similar: four,sums,accuracy,0.5,Answer:, (short),4,math,"
        '"ai, data science,global\\, warming",0.9\n'
    )
    table = _read(text)
    assert table.problems == () and table.unknown_columns == ()
    [case] = table.cases
    assert (case.line, case.vars, case.description, case.metric, case.threshold) == (
        2, {"question": "What is 2+2?"}, "sums", "accuracy", 0.5,
    )  # fmt: skip
    assert (case.prefix, case.suffix, case.provider_output) == ("Answer:", " (short)", "4")
    assert case.metadata == {"topic": "math", "tags": ["ai", "data science", "global, warming"]}
    first, second = case.expected
    assert (first.column, first.names_assertion, first.assertion) == (
        "__expected", False, {"type": "equals", "value": "4", "metric": "accuracy"},
    )  # fmt: skip
    assert (second.column, second.names_assertion, second.config) == (
        "__expected2", True, {"threshold": 0.9},
    )  # fmt: skip
    assert second.assertion == {
        "type": "similar", "value": "four", "threshold": 0.9, "metric": "accuracy",
    }  # fmt: skip


def test_config_numbers_assertions_as_promptfoo_does() -> None:
    # __expected and __expected1 are both the first assertion; a blank cell is not counted.
    text = (
        "q,__expected1,__expected2,__expected3,__config:__expected:threshold,"
        "__config:__expected2:threshold\n"
        "a,,similar: x,similar: y,0.6,0.7\n"
    )
    [case] = _read(text).cases
    assert [(cell.column, cell.assertion["threshold"]) for cell in case.expected] == [
        ("__expected2", 0.6),
        ("__expected3", 0.7),
    ]


def test_text_naming_no_assertion_is_promptfoos_equals() -> None:
    text = 'q,__expected1,__expected2,__expected3\na,Paris,"  icontains: refund ",nothing: here\n'
    [case] = _read(text).cases
    assert [(cell.assertion, cell.names_assertion) for cell in case.expected] == [
        ({"type": "equals", "value": "Paris"}, False),
        ({"type": "icontains", "value": "refund"}, True),  # promptfoo trims the cell
        ({"type": "equals", "value": "nothing: here"}, False),
    ]
    assert is_prose("Paris") and is_prose("  Paris ") and not is_prose("contains: x")
    assert not is_prose("   ")


# -- the file's shape ------------------------------------------------------------------------


def test_bom_crlf_quoted_line_breaks_and_empty_lines() -> None:
    text = (
        '\ufeff q ,__expected\r\n"two\r\nlines, and ""quotes""",x\r\n\r\n'
        'say "hi" now,y\r\n,\r\n\r\n\r\n'
    )
    table = _read(text)
    assert table.problems == () and table.columns == ("q", "__expected")
    assert [(case.line, case.vars) for case in table.cases] == [
        (2, {"q": 'two\r\nlines, and "quotes"'}),
        (5, {"q": 'say "hi" now'}),  # a quote inside an unquoted cell is kept
        (6, {"q": ""}),  # a row of empty cells is a case; empty lines are not
    ]


def test_every_problem_is_reported_with_its_line_and_bad_rows_are_not_kept() -> None:
    text = (
        "q, q ,,__metadata:,__metadata:k,__metadata:k[],__config:__expected:weight,"
        "__config:__foo:threshold,__threshold,__config:__expected2:threshold,__expected2\n"
        "ok,,,,,,,,,,\n"
        "short\n"
        "n,,,,,,,,high,x,y\n"
        '"never closed,\n'
    )
    table = _read(text)
    assert _problems(table) == [
        "t.csv:1: column 'q' appears twice in the header",
        "t.csv:1: a column has no name in the header",
        "t.csv:1: column '__metadata:' names no metadata field",
        "t.csv:1: metadata 'k' is given by two columns",
        "t.csv:1: column '__config:__expected:weight': unknown key 'weight' (promptfoo's: "
        "threshold)",
        "t.csv:1: column '__config:__foo:threshold': write __config:__expected:threshold or "
        "__config:__expectedN:KEY",
        "t.csv:3: 1 fields where the header has 11",
        "t.csv:4: __threshold: 'high' is not a number",
        "t.csv:4: __config:__expected2:threshold: 'x' is not a number",
        "t.csv:5: not CSV: unexpected end of data",
    ]
    assert [case.line for case in table.cases] == [2]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "t.csv:1: the file is empty: no cases to import"),
        (" , \n", "t.csv:1: the file is empty: no cases to import"),
        ('q\n"a"b\n', "t.csv:2: not CSV: ',' expected after '\"'"),
    ],
)
def test_empty_and_malformed_files(text: str, problem: str) -> None:
    assert _problems(_read(text)) == [problem]


def test_unknown_columns_and_a_callers_own_columns() -> None:
    text = "q,__weird,__metadata,__golden,expected\na,1,2,gold,exp\n"
    table = _read(text, own_columns=("__golden", "expected"))
    assert table.unknown_columns == ("__weird", "__metadata")  # promptfoo ignores a bare one
    [case] = table.cases
    assert case.vars == {"q": "a"} and case.own == {"__golden": "gold", "expected": "exp"}
    assert case.cells == {"q": "a", "__weird": "1", "__metadata": "2", "__golden": "gold",
                          "expected": "exp"}  # fmt: skip


# -- as llmbench cases -----------------------------------------------------------------------


def test_rows_as_llmbench_cases_with_arrays_metric_and_config() -> None:
    text = (
        "q,__expected,__expected2,__metadata:tags[],__metric,__config:__expected2:threshold\n"
        'a,refund,similar: a refund,"x,y\\,z",tone,0.9\n'
        "b,similar: close,,,,\n"
    )
    cases, problems = llmbench_cases(_read(text, own_columns=LLMBENCH_COLUMNS))
    assert problems == []
    assert [(c.vars, c.expected, c.tags, c.checks, c.line) for c in cases] == [
        ({"q": "a"}, "refund", {"tags": '["x", "y,z"]'},
         ({"kind": "similar", "value": "a refund", "threshold": 0.9, "metric": "tone"},), 2),
        # promptfoo's CSV default threshold for `similar` is 0.8
        ({"q": "b"}, None, {}, ({"kind": "similar", "value": "close", "threshold": 0.8},), 3),
    ]  # fmt: skip


def test_what_a_case_cannot_hold_is_refused_with_its_line() -> None:
    text = (
        "q,__expected,__threshold,__checks\n"
        "a,word-count: 5,,\n"
        "b,,0.5,\n"
        'c,,,"[{""type"": ""regex"", ""value"": ""(""}]"\n'
    )
    cases, problems = llmbench_cases(_read(text, own_columns=LLMBENCH_COLUMNS))
    assert [case.line for case in cases] == [3]  # the file is refused: a caller keeps none
    shown = [str(problem) for problem in problems]
    assert shown[:2] == [
        "t.csv:1: column __threshold (promptfoo's test threshold) cannot be converted into a "
        "case; remove it (1 row use it)",
        "t.csv:2: __expected: promptfoo's 'word-count' assertion has no llmbench check; a golden "
        "answer that starts like an assertion goes in a __golden column",
    ]
    assert len(shown) == 3 and shown[2].startswith("t.csv:4: __checks 1: check 'regex'")


# -- one reading for the three importers -----------------------------------------------------

CASES_CSV = 'ticket,__expected,__metadata:tags[]\nI was charged twice,icontains: refund,"a,b"\n'


def test_the_same_cell_is_the_same_check_in_every_importer(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text(CASES_CSV, encoding="utf-8")
    [record] = read_dataset_file(tmp_path / "cases.csv", "cases.csv")
    assert (record.expected, record.checks) == (None, ({"kind": "icontains", "value": "refund"},))
    assert record.tags == {"tags": '["a", "b"]'}

    (tmp_path / "suite.yaml").write_text("prompts: [p]\ndataset: cases.csv\n", encoding="utf-8")
    [test] = load_suite(tmp_path / "suite.yaml").tests
    # Before: the suite read the cell as the golden answer "icontains: refund".
    assert (test.expected, test.checks) == (None, ({"kind": "icontains", "value": "refund"},))
    assert test.tags == {"tags": '["a", "b"]'}

    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['Answer {{ticket}}']\nproviders: [openai:gpt-4o-mini]\n"
        "tests: file://cases.csv\n",
        encoding="utf-8",
    )
    [suite_test] = convert_file(tmp_path / "promptfooconfig.yaml").suite["tests"]
    assert suite_test["checks"] == [{"type": "icontains", "value": "refund"}]
    assert suite_test["tags"] == {"tags": '["a", "b"]'}


def test_prose_is_the_golden_answer_of_a_dataset_and_a_suite(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("q,__expected\nCapital?,Paris\n", encoding="utf-8")
    [record] = read_dataset_file(tmp_path / "cases.csv", "cases.csv")
    (tmp_path / "suite.yaml").write_text("prompts: [p]\ndataset: cases.csv\n", encoding="utf-8")
    [test] = load_suite(tmp_path / "suite.yaml").tests
    assert (record.expected, record.checks) == (test.expected, test.checks) == ("Paris", ())


def test_a_duplicate_column_is_refused_by_every_importer(tmp_path: Path) -> None:
    # Before: the suite and the promptfoo importer kept the last `q` and said nothing.
    (tmp_path / "cases.csv").write_text("q,q\n1,2\n", encoding="utf-8")
    problem = f"{tmp_path / 'cases.csv'}:1: column 'q' appears twice in the header"
    with pytest.raises(DatasetFileError) as dataset:
        read_dataset_file(tmp_path / "cases.csv", str(tmp_path / "cases.csv"))
    (tmp_path / "suite.yaml").write_text("prompts: [p]\ndataset: cases.csv\n", encoding="utf-8")
    with pytest.raises(SuiteError) as suite:
        load_suite(tmp_path / "suite.yaml")
    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['Say {{q}}']\nproviders: [openai:gpt-4o-mini]\ntests: file://cases.csv\n",
        encoding="utf-8",
    )
    with pytest.raises(PromptfooError) as promptfoo:
        convert_file(tmp_path / "promptfooconfig.yaml")
    for caught in (dataset, suite, promptfoo):
        assert [str(p) for p in caught.value.problems] == [problem]
