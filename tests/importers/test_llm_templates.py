"""simonw/llm YAML templates read as llmbench prompts."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.models import Variable
from llmbench.core.prompts.templates import render_section
from llmbench.importers.file_problems import PromptFileError
from llmbench.importers.prompts.documents import PromptDoc
from llmbench.importers.prompts.llm_templates import parse_llm_template
from llmbench.importers.yaml_nodes import load_document


def _template(tmp_path: Path, text: str, name: str = "summarize.yaml") -> PromptDoc:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_llm_template(load_document(path), str(path), path.stem)


FULL = """\
model: gpt-4o-mini
system: |
  Summarize in the voice of $voice.
  Costs are in $$, never in ${currency}s.
prompt: 'Text to summarize: $input'
defaults:
  voice: GlaDOS
options:
  temperature: 0.5
  max_tokens: 200
extract: true
tools:
  - llm_time
colour: blue
"""


def test_a_full_template_maps_to_one_version(tmp_path: Path) -> None:
    prompt = _template(tmp_path, FULL)
    assert prompt.name == "summarize"
    assert "defaults: voice = 'GlaDOS'" in prompt.description
    (version,) = prompt.versions
    assert version.number is None and version.author is None
    assert version.sections == {
        "role": "Summarize in the voice of {{ voice }}.\n"
        "Costs are in $, never in {{ currency }}s.\n",
        "task": "Text to summarize: {{ input }}",
    }
    assert version.variables == (
        Variable("voice", "trusted"),
        Variable("currency", "trusted"),
        Variable("input", "untrusted"),
    )
    assert (version.model, version.params) == (
        "gpt-4o-mini",
        {"temperature": 0.5, "max_tokens": 200},
    )
    warnings = [f"{warning.line}: {warning.message}" for warning in prompt.warnings]
    assert warnings == [
        "11: extract: extracting the first fenced code block is not supported by llmbench;"
        " not imported",
        "13: tools: tools is not supported by llmbench; not imported",
        "14: colour: not an llm template key; not imported",
    ]


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("system: Reply in French\n", "{{ input }}"),
        ("prompt: Summarize the following\n", "Summarize the following\n{{ input }}"),
        ("'Just a string: $input'\n", "Just a string: {{ input }}"),
        (
            "prompt: 'Keep {{ braces }} and {% tags %}: $input'\n",
            "Keep {{ '{' }}{{ '{' }} braces }} and {{ '{' }}% tags %}: {{ input }}",
        ),
    ],
)
def test_the_input_goes_where_llm_puts_it(tmp_path: Path, text: str, task: str) -> None:
    (version,) = _template(tmp_path, text).versions
    assert version.sections["task"] == task
    assert Variable("input", "untrusted") in version.variables


def test_a_lone_dollar_is_kept_with_a_warning_at_its_line(tmp_path: Path) -> None:
    prompt = _template(tmp_path, "prompt: |\n  Line one\n  It costs $5: $input\n")
    assert prompt.versions[0].sections["task"] == "Line one\nIt costs $5: {{ input }}\n"
    (warning,) = prompt.warnings
    assert warning.line == 3 and "'$' not followed by a name" in warning.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model: gpt-4o\n", "1: neither an llmbench prompt file"),
        ("- a list\n", "1: neither an llmbench prompt file"),
        ("prompt: [1, 2]\n", "1: prompt must be text, not a list"),
        ("system: hi\noptions: fast\n", "2: options must be a mapping"),
        ("prompt: 'use $range here'\n", "1: $range cannot be a variable name in llmbench"),
    ],
)
def test_a_broken_template_is_refused_at_its_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PromptFileError) as caught:
        _template(tmp_path, text)
    assert any(f"{p.line}: {p.message}".startswith(expected) for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


NAMES = st.sampled_from(["input", "a", "b_1", "_x"])
PIECES = st.one_of(
    st.text(alphabet="ab {}%#$'\"\n-:", max_size=6),
    NAMES.map(lambda name: f"${name}"),
    NAMES.map(lambda name: f"${{{name}}}"),
    st.just("$$"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join))
def test_rendering_matches_llm_substitution(text: str) -> None:
    """What llmbench renders from a converted template is what llm would have sent."""
    node = yaml.compose(yaml.safe_dump({"prompt": text}), Loader=yaml.SafeLoader)
    (version,) = parse_llm_template(node, "t.yaml", "t").versions
    values = {variable.name: f"<{variable.name.upper()}>" for variable in version.variables}
    expected = string.Template(text).safe_substitute(values)
    if "input" not in string.Template(text).get_identifiers():
        expected = f"{expected}\n{values['input']}"
    assert render_section("task", version.sections["task"], values) == expected.strip()
