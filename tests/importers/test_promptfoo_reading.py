"""How a promptfoo config is read as promptfoo reads it: YAML 1.2 (js-yaml), `$ref`,
`assert-set`, CSV rows' special columns, prompt paths, and Nunjucks' filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmbench.core.prompts.nunjucks import mark_nunjucks
from llmbench.core.prompts.templates import render_section
from llmbench.importers.promptfoo.config import Conversion, PromptfooError, convert_file
from llmbench.importers.promptfoo.csv_rows import metadata_list
from llmbench.importers.yaml_nodes import load_yaml12

MINIMAL = "prompts: ['Say {{word}}']\nproviders: [openai:gpt-4o-mini]\n"


def _convert(folder: Path, text: str) -> Conversion:
    path = folder / "promptfooconfig.yaml"
    path.write_text(text, encoding="utf-8")
    return convert_file(path)


def _problems(folder: Path, text: str) -> list[str]:
    with pytest.raises(PromptfooError) as raised:
        _convert(folder, text)
    return [str(problem) for problem in raised.value.problems]


# -- YAML 1.2 --------------------------------------------------------------------------------


def test_yaml_12_scalars_as_js_yaml_reads_them() -> None:
    data = load_yaml12(
        "a: Yes\nb: no\nc: on\nd: OFF\ne: y\nf: true\ng: False\nh: 0123\ni: 0o17\nj: 0x1F\n"
        "k: 1e3\nl: 1_000\nm: 12:30\nn: ~\no:\np: .5\nq: -.inf\nr: NULL\n"
    )
    assert data == {
        "a": "Yes", "b": "no", "c": "on", "d": "OFF", "e": "y", "f": True, "g": False,
        "h": 123, "i": 15, "j": 31, "k": 1000.0, "l": "1_000", "m": "12:30", "n": None,
        "o": None, "p": 0.5, "q": float("-inf"), "r": None,
    }  # fmt: skip


def test_a_yes_var_and_key_stay_text(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL + "tests:\n  - vars: {word: Yes, code: 0123, On: off}\n"
        "    assert: [{type: equals, value: No}]\n",
    )
    (test,) = conversion.suite["tests"]
    assert test["vars"] == {"word": "Yes", "code": 123, "On": "off"}
    assert test["checks"] == [{"type": "equals", "value": "No"}]


def test_merge_keys_are_applied(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL + "base: &base {vars: {word: hi}}\ntests:\n  - <<: *base\n"
        "    assert: [{type: contains, value: hi}]\n",
    )
    assert conversion.suite["tests"][0]["vars"] == {"word": "hi"}


# -- $ref ------------------------------------------------------------------------------------


def test_refs_to_templates_defaults_and_other_files(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text(
        "checks:\n  polite: {type: llm-rubric, value: Is polite}\n", encoding="utf-8"
    )
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
assertionTemplates:
  hasWord: {type: icontains, value: '{{word}}'}
  short: {type: javascript, value: output.length < 50}
defaultTest:
  assert:
    - $ref: '#/assertionTemplates/short'
tests:
  - vars: {word: hi}
    assert:
      - $ref: '#/assertionTemplates/hasWord'
      - {$ref: '#/assertionTemplates/hasWord', type: not-icontains, weight: 2}
      - $ref: 'shared.yaml#/checks/polite'
""",
    )
    assert conversion.suite["checks"] == [{"type": "javascript", "value": "output.length < 50"}]
    assert conversion.suite["tests"][0]["checks"] == [
        {"type": "icontains", "value": "{{word}}"},
        {"type": "icontains", "value": "{{word}}", "negate": True, "weight": 2},
        {"type": "judge", "value": "Is polite"},
    ]
    # Each one is reported where the $ref was written.
    lines = (tmp_path / "promptfooconfig.yaml").read_text(encoding="utf-8").splitlines()
    refs = [number for number, line in enumerate(lines, start=1) if "$ref" in line]
    assert [(item.where, item.line) for item in conversion.converted] == [
        ("defaultTest.assert[0]", refs[0]),
        ("tests[0].assert[0]", refs[1]),
        ("tests[0].assert[1]", refs[2]),
        ("tests[0].assert[2]", refs[3]),
    ]
    assert not conversion.omitted


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("'#/assertionTemplates/missing'", "nothing is at 'missing'"),
        ("'#/loop'", "references loop"),
        ("'https://example.com/a.yaml#/x'", "only files beside the config"),
        ("'absent.yaml#/x'", "cannot read"),
        ("[1]", "$ref must be text"),
    ],
)
def test_a_ref_that_cannot_be_resolved_is_an_error_at_its_line(
    tmp_path: Path, ref: str, message: str
) -> None:
    problems = _problems(
        tmp_path,
        MINIMAL
        + ("loop: {$ref: '#/loop'}\n" if "loop" in ref else "")
        + f"assertionTemplates: {{}}\ntests:\n  - assert:\n      - $ref: {ref}\n",
    )
    assert message in problems[-1]
    assert problems[0].startswith(f"{tmp_path / 'promptfooconfig.yaml'}:")


# -- assert-set ------------------------------------------------------------------------------


def test_an_assert_set_without_threshold_becomes_its_checks_sharing_its_weight(
    tmp_path: Path,
) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
tests:
  - vars: {word: hi}
    assert:
      - {type: contains, value: hi}
      - type: assert-set
        weight: 2
        metric: tone
        assert:
          - {type: icontains, value: hello, weight: 3}
          - {type: not-contains, value: sorry}
""",
    )
    assert conversion.suite["tests"][0]["checks"] == [
        {"type": "contains", "value": "hi"},
        {"type": "icontains", "value": "hello", "weight": 1.5, "metric": "tone"},
        {"type": "contains", "value": "sorry", "negate": True, "weight": 0.5, "metric": "tone"},
    ]
    assert [item.where for item in conversion.converted] == [
        "tests[0].assert[0]",
        "tests[0].assert[1].assert[0]",
        "tests[0].assert[1].assert[1]",
    ]


def test_an_assert_set_with_a_threshold_is_listed_member_by_member(tmp_path: Path) -> None:
    conversion = _convert(
        tmp_path,
        MINIMAL
        + """\
tests:
  - vars: {word: hi}
    assert:
      - {type: contains, value: hi}
      - type: assert-set
        threshold: 0.5
        assert:
          - {type: icontains, value: hello}
          - {type: is-json}
""",
    )
    assert conversion.suite["tests"][0]["checks"] == [{"type": "contains", "value": "hi"}]
    assert [(item.where, item.what, item.line) for item in conversion.omitted] == [
        ("tests[0].assert[1].assert[0]", "icontains", 7),
        ("tests[0].assert[1].assert[1]", "is-json", 7),
    ]
    assert "threshold (0.5) passes the set on a share" in conversion.omitted[0].why


# -- CSV rows --------------------------------------------------------------------------------


def test_metadata_lists_split_on_unescaped_commas() -> None:
    assert metadata_list("ai, data science,algorithms") == ["ai", "data science", "algorithms"]
    assert metadata_list("physics,advanced\\,theory") == ["physics", "advanced,theory"]


def test_csv_columns_as_promptfoo_maps_them(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text(
        "word,__expected1,__expected2,__expected10,__config:__expected2:threshold,"
        "__metadata:tags[],__metadata:level,__threshold,__metric\n"
        'hi,contains: hi,"similar: hello",icontains: x,0.6,"a,b\\,c",easy,0.5,tone\n',
        encoding="utf-8",
    )
    conversion = _convert(tmp_path, MINIMAL + "tests: file://cases.csv\n")
    (test,) = conversion.suite["tests"]
    assert test["vars"] == {"word": "hi"}
    assert test["tags"] == {"tags": '["a", "b,c"]', "level": "easy"}
    assert test["checks"] == [
        {"type": "contains", "value": "hi", "metric": "tone"},
        {"type": "similar", "value": "hello", "threshold": 0.6, "metric": "tone"},
        {"type": "icontains", "value": "x", "metric": "tone"},
    ]
    assert [item.where for item in conversion.converted] == [
        "row 2.__expected1",
        "row 2.__expected2",
        "row 2.__expected10",
    ]
    assert not conversion.omitted
    assert test["threshold"] == 0.5  # __threshold: the case passes on its weighted score


# -- prompts ---------------------------------------------------------------------------------


def test_a_prompt_that_names_a_file_is_read_from_it(tmp_path: Path) -> None:
    (tmp_path / "prompts.txt").write_text("One {{word}}\n---\n\nTwo {{word}}\n")
    conversion = _convert(
        tmp_path,
        "prompts: [prompts.txt, 'Plain {{word}} prompt']\nproviders: [openai:gpt-4o-mini]\n"
        "tests: [{vars: {word: a}, assert: [{type: contains, value: a}]}]\n",
    )
    assert [prompt["text"] for prompt in conversion.suite["prompts"]] == [
        mark_nunjucks("One {{word}}"),
        mark_nunjucks("Two {{word}}"),
        mark_nunjucks("Plain {{word}} prompt"),
    ]


def test_an_unknown_filter_is_an_error_at_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "prompts.txt").write_text(
        "Fine {{ word | upper }}\n---\n\nBad {{ word | shout }}\n"
    )
    problems = _problems(
        tmp_path,
        "prompts:\n  - file://prompts.txt\n  - |\n    Line one\n    {{ word | groupby('x') }}\n"
        "providers: [openai:gpt-4o-mini]\ntests: [{vars: {word: a}}]\n",
    )
    assert problems == [
        f"{tmp_path / 'prompts.txt'}:4: prompts[0]: the Nunjucks filter 'shout' is not one"
        " llmbench renders (it has promptfoo's load and Nunjucks' built-in filters; custom"
        " filters run JavaScript)",
        f"{tmp_path / 'promptfooconfig.yaml'}:5: prompts[1]: the Nunjucks filter 'groupby' is"
        " not one llmbench renders (it has promptfoo's load and Nunjucks' built-in filters;"
        " custom filters run JavaScript)",
    ]


@pytest.mark.parametrize(
    ("template", "values", "rendered"),
    [
        ("{{ (c | load).tone }}", {"c": '{"tone": "formal"}'}, "formal"),
        ("{{ (c | load).on }}", {"c": '{"on": true}'}, "true"),
        ("{{ (c | load).n }}", {"c": '{"n": 3.0}'}, "3"),
        ("{{ (c | load).items }}", {"c": '{"items": ["a", "b"]}'}, "a,b"),
        ("{{ (c | load) }}", {"c": '{"a": 1}'}, "[object Object]"),
        ("{{ v | dump }}", {"v": "a<b"}, '"a<b"'),
        ("{{ (c | load) | dump }}", {"c": '{"a": [1, 2]}'}, '{"a":[1,2]}'),
        ("{{ (c | load) | dump(2) }}", {"c": '{"a": 1}'}, '{\n  "a": 1\n}'),
        ("{{ v | truncate(9) }}", {"v": "hello big world"}, "hello big..."),
        ("{{ v | truncate(7) }}", {"v": "hello big world"}, "hello..."),
        ("{{ (c | load).items.length }}", {"c": '{"items": [1, 2, 3]}'}, "3"),
        ("{{ v | truncate(9, true, '!') }}", {"v": "hello big world"}, "hello big!"),
        ("{{ v | indent(2, true) }}", {"v": "a\nb"}, "a\n  b"),
        ("{{ v | indent(2) }}", {"v": "a\nb"}, "a\n  b"),
        ("{{ (c | load) | join(', ', 'n') }}", {"c": '[{"n": 1}, {"n": 2}]'}, "1, 2"),
        ("{{ missing | default('none') }}", {}, "none"),
        ("{{ v | default('x', true) }}", {"v": ""}, "x"),
        ("{{ (c | load) | list | first }}", {"c": '{"k": 1}'}, "[object Object]"),
        ("{{ v | replace('a', 'o', 1) }}", {"v": "banana"}, "bonana"),
        ("{{ v | int }}", {"v": "42px"}, "42"),
        ("{{ v | float }}", {"v": "2.50 EUR"}, "2.5"),
        ("{{ v | round(1) }}", {"v": "2.25"}, "2.3"),
        ("{{ v | nl2br }}", {"v": "a\nb"}, "a<br />\nb"),
        ("{{ v | wordcount }}", {"v": "one two, three"}, "3"),
        ("{{ v | title }}", {"v": "hello wORLD"}, "Hello World"),
        ("{{ v | center(7) }}", {"v": "ab"}, "ab"),  # centred, then the section is trimmed
        ("{{ v | urlencode }}", {"v": "a b&c"}, "a%20b%26c"),
        ("{{ v | safe }}", {"v": "<b>"}, "<b>"),
    ],
)
def test_nunjucks_filters_render_as_nunjucks_renders_them(
    template: str, values: dict[str, Any], rendered: str
) -> None:
    assert render_section("task", mark_nunjucks(template), values) == rendered


def test_a_filter_only_jinja_has_is_not_a_nunjucks_filter() -> None:
    from llmbench.core.prompts.templates import TemplateError

    with pytest.raises(TemplateError, match="No filter named 'tojson'"):
        render_section("task", mark_nunjucks("{{ v | tojson }}"), {"v": "x"})
    # llmbench's own templates keep Jinja's filters.
    assert render_section("task", "{{ v | tojson }}", {"v": "x"}) == '"x"'
