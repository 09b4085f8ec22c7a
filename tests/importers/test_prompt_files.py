"""Prompt files: exact text round trips, stable formatting, and `path:line:` for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.models import Example, Variable
from llmbench.importers.file_problems import PromptFileError
from llmbench.importers.prompts.documents import LabelDoc, NoteDoc, PromptDoc, VersionDoc
from llmbench.importers.prompts.file_reading import is_prompt_document, parse_prompt_document
from llmbench.importers.prompts.file_writing import HEADER, dump_prompt, file_name_for
from llmbench.importers.yaml_nodes import load_document

TRICKY = [
    "yes",
    "no",
    "null",
    "~",
    "1.0",
    "0x1F",
    "#not a comment",
    ": colon first",
    "- dash first",
    "trailing space ",
    "",
    "  leading\nindent\n",
    "two\n\ntrailing newlines\n\n",
    "tab\tinside\nlines",
    "line with trailing space \nnext",
    "unicode: é ü 日本語 🙂\nsecond line",
    "zero\u200bwidth and\u2028line separator",
    "carriage\r\nreturn",
    "{{ ticket }} and {% if x %}y{% endif %}",
    "'quotes' and \"double\"",
    "2026-01-01",
]


def _doc(text: str = "Sort {{ ticket }}") -> PromptDoc:
    return PromptDoc(
        name="triage",
        description="Sorts: tickets",
        tags=("support", "yes"),
        labels=(LabelDoc("staging", 2), LabelDoc("production", 1)),
        notes=(NoteDoc("lesson", "one\ntwo\n", 1, "ana", "2026-01-02T03:04:05.000Z"),),
        versions=(
            VersionDoc(
                number=1,
                sections={"task": text, "role": "You sort.\n"},
                variables=(Variable("ticket", "untrusted", 500), Variable("team")),
                model="gpt-4o-mini",
                params={"temperature": 0.0, "stop": ["\n\n"], "seed": 7, "json": True},
                author="ana",
                message="first",
                created_at="2026-01-01T00:00:00.000Z",
            ),
            VersionDoc(
                number=2,
                sections={"task": text, "freeform": ""},
                parent=1,
                examples=(Example("a: b", "- c"),),
                few_shot_k=2,
                author="sam",
                message="null",
                created_at="2026-01-03T00:00:00.000Z",
            ),
        ),
    )


def _parse_text(tmp_path: Path, text: str, name: str = "triage.yaml") -> PromptDoc:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_prompt_document(load_document(path), str(path))


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(PromptFileError) as caught:
        _parse_text(tmp_path, text)
    return [f"{problem.line}: {problem.message}" for problem in caught.value.problems]


@pytest.mark.parametrize("text", TRICKY, ids=repr)
def test_tricky_text_survives_a_round_trip(tmp_path: Path, text: str) -> None:
    written = dump_prompt(_doc(text))
    parsed = _parse_text(tmp_path, written)
    assert parsed.versions[0].sections["task"] == text
    assert dump_prompt(parsed) == written


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_any_text_survives_a_round_trip(text: str) -> None:
    written = dump_prompt(_doc(text))
    node = yaml.compose(written, Loader=yaml.SafeLoader)
    parsed = parse_prompt_document(node, "x.yaml")
    assert parsed.versions[0].sections["task"] == text
    assert dump_prompt(parsed) == written


def test_the_file_is_readable_and_stable(tmp_path: Path) -> None:
    written = dump_prompt(_doc("Sort this ticket:\n{{ ticket }}\n"))
    assert written.startswith(HEADER) and written.endswith("\n") and not written.endswith("\n\n")
    lines = written.splitlines()
    assert lines[1:3] == ["name: triage", "description: 'Sorts: tickets'"]
    # Multi-line text is a literal block (whitespace-only text stays quoted); labels are
    # sorted; lists are indented; tricky scalars are quoted.
    assert "    sections:\n      role: |\n        You sort.\n      task: |\n" in written
    assert '      stop:\n        - "\\n\\n"\n' in written
    assert "labels:\n  production: 1\n  staging: 2\n" in written
    assert "tags:\n  - support\n  - 'yes'\n" in written
    assert "    message: 'null'\n" in written
    # Keys come in a fixed order: metadata first, the sections last.
    first_version = written[written.index("  - version: 1") : written.index("  - version: 2")]
    keys = [line.strip().split(":")[0] for line in first_version.splitlines() if line[4] != " "]
    assert keys == [
        "- version", "created_at", "author", "message", "model", "params", "parent", "variables",
        "sections",
    ]  # fmt: skip
    assert written.index("few_shot_k: 2") < written.index("examples:") < written.rindex("sections:")
    assert dump_prompt(_doc("Sort this ticket:\n{{ ticket }}\n")) == written


def test_a_parsed_file_matches_what_was_written(tmp_path: Path) -> None:
    original = _doc()
    parsed = _parse_text(tmp_path, dump_prompt(original))
    assert parsed.versions[0].params == original.versions[0].params
    assert parsed.versions[0].variables == original.versions[0].variables
    assert parsed.versions[1].examples == original.versions[1].examples
    assert (parsed.versions[1].parent, parsed.versions[1].few_shot_k) == (1, 2)
    assert parsed.notes[0] == NoteDoc(
        "lesson", "one\ntwo\n", 1, "ana", "2026-01-02T03:04:05.000Z", line=parsed.notes[0].line
    )
    assert {label.label: label.version for label in parsed.labels} == {
        "production": 1,
        "staging": 2,
    }


MINIMAL = """\
name: triage
versions:
  - version: 1
    sections:
      task: Sort {{ ticket }}
"""


def test_a_hand_written_minimal_file_is_enough(tmp_path: Path) -> None:
    parsed = _parse_text(tmp_path, MINIMAL)
    (version,) = parsed.versions
    assert (version.number, version.author, version.created_at, version.message) == (
        1,
        None,
        None,
        "",
    )
    assert is_prompt_document(load_document(tmp_path / "triage.yaml"))


def test_bad_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: triage\nversions:\n  - version: 1\n    sections: [unclosed\n")
    with pytest.raises(PromptFileError) as caught:
        load_document(path)
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{path}:")
    assert problem.line >= 4 and "invalid YAML" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL.replace("version: 1", "version: one"),
            "3: version must be a whole number, not text",
        ),
        (
            MINIMAL + "    model: 4\n",
            "6: version 1: model must be text, not an integer (quote it: '4')",
        ),
        (
            MINIMAL + "    message: yes\n",
            "6: version 1: message must be text, not true/false (quote it: 'yes')",
        ),
        (
            MINIMAL + "    variables:\n      - name: ticket\n        kind: sneaky\n",
            "8: version 1: variable 'ticket': unknown kind 'sneaky'; use one of trusted,"
            " untrusted, retrieved, history, image",
        ),
        (
            MINIMAL + "  - version: 1\n    sections:\n      task: again\n",
            "6: duplicate version 1 (first at line 3)",
        ),
        (
            MINIMAL + "labels:\n  production: two\n",
            "7: label 'production': the version it points at must be a whole number, not text",
        ),
        (
            MINIMAL + "colour: blue\n",
            "6: the file: unknown key 'colour'; expected one of name,"
            " description, tags, labels, notes, versions",
        ),
        (
            "name: triage\nname: again\nversions: []\n",
            "2: the file: duplicate key 'name' (first at line 1)",
        ),
        (
            MINIMAL + "notes:\n  - kind: gossip\n    text: hi\n",
            "7: unknown note kind 'gossip';"
            " use one of pattern, lesson, failed-approach, model-quirk",
        ),
        (MINIMAL + "    parent: 1\n", "6: version 1: parent must be an earlier version, not 1"),
        (
            MINIMAL.replace("version: 1", "version: 2") + "  - version: 1\n    sections: {}\n",
            "6: version 1 comes after version 2; list versions in ascending order",
        ),
        (
            MINIMAL + "    params:\n      temperature: .nan\n",
            "7: version 1: params: .nan cannot be saved (not a finite number)",
        ),
        (
            MINIMAL + "    created_at: last tuesday\n",
            "6: version 1: created_at must be an ISO-8601 time, not 'last tuesday'",
        ),
    ],
)
def test_a_wrong_value_is_reported_at_its_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _problems(tmp_path, text)


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace("task:", "task: 3\n      role:") + "labels:\n  production: x\n"
    problems = _problems(tmp_path, text.replace("name: triage", "name: ''"))
    assert [problem.split(":")[0] for problem in problems] == ["1", "5", "8"]


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("support-reply", "support-reply.yaml"),
        ("v2 draft: new?", "v2 draft_ new_.yaml"),
        (".hidden", "_hidden.yaml"),
        ("con", "con_.yaml"),
        ("日本語", "日本語.yaml"),
    ],
)
def test_file_names_are_safe(name: str, file_name: str) -> None:
    assert file_name_for(name) == file_name


@pytest.mark.parametrize("name", ["../escape", "a/b", "a\\b", "..", "."])
def test_names_that_would_leave_the_folder_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be a file name"):
        file_name_for(name)
