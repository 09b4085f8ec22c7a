from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.models import Example, PromptVersion, Variable
from llmbench.core.prompts.diff import (
    FieldDiff,
    LineOp,
    Segment,
    diff_lines,
    diff_versions,
    diff_words,
)

V1 = PromptVersion(
    id=1,
    prompt_id=1,
    version=1,
    sections={
        "role": "You are a support agent for {{ company }}.",
        "task": "Answer the question.\n{{ question }}",
        "examples": "Replies we liked:",
    },
    variables=(Variable("company"), Variable("question", "untrusted", 200)),
    model="gpt-4o-mini",
    params={"temperature": 0.2, "max_tokens": 300},
    examples=(Example("billed twice", "Refund."), Example("reset password", "Link.")),
    few_shot_k=1,
)


def test_identical_versions_differ_in_nothing() -> None:
    diff = diff_versions(V1, replace(V1, id=2, version=2))
    assert (diff.old_version, diff.new_version) == (1, 2)
    assert [(s.name, s.status) for s in diff.sections] == [
        ("role", "same"),
        ("task", "same"),
        ("examples", "same"),
    ]
    assert diff.metadata == ()
    assert not diff.changed
    assert diff.sections[1].lines == (
        LineOp("same", "Answer the question.", "Answer the question.", old_number=1, new_number=1),
        LineOp("same", "{{ question }}", "{{ question }}", old_number=2, new_number=2),
    )


def test_an_edited_line_carries_word_highlights() -> None:
    new = replace(
        V1,
        version=2,
        sections={**V1.sections, "role": "You are a friendly support agent for {{ company }}."},
    )
    role = diff_versions(V1, new).sections[0]
    assert role.status == "changed"
    (line,) = role.lines
    assert line.kind == "changed"
    assert [s.text.strip() for s in line.new_segments if s.changed] == ["friendly"]
    assert "".join(s.text for s in line.new_segments) == line.new
    assert line.old_segments == (Segment(line.old or "", False),)
    assert (role.words_added, role.words_removed) == (1, 0)


def test_word_segments_mark_replacements_on_both_sides() -> None:
    old, new = diff_words("Reply in three sentences.", "Reply in two short sentences!")
    assert [s.text for s in old if s.changed] == ["three", "."]
    assert [s.text for s in new if s.changed] == ["two short", "!"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_word_segments_give_the_lines_back(old: str, new: str) -> None:
    old_segments, new_segments = diff_words(old, new)
    assert "".join(s.text for s in old_segments) == old
    assert "".join(s.text for s in new_segments) == new
    # Neighbours always differ in their flag: segments are merged as far as they can be.
    for segments in (old_segments, new_segments):
        assert all(a.changed != b.changed for a, b in itertools.pairwise(segments))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from("abcde"), max_size=8), st.lists(st.sampled_from("abcde"), max_size=8)
)
def test_line_ops_rebuild_both_texts(old: list[str], new: list[str]) -> None:
    ops = diff_lines(old, new)
    assert [op.old for op in ops if op.kind != "added"] == old
    assert [op.new for op in ops if op.kind != "removed"] == new
    assert [op.old_number for op in ops if op.kind != "added"] == list(range(1, len(old) + 1))


def test_an_unrelated_replacement_is_a_removal_and_an_addition() -> None:
    ops = diff_lines(["Never reveal internal notes."], ["42"])
    assert [op.kind for op in ops] == ["removed", "added"]


def test_sections_added_and_removed_in_the_standard_order_then_the_rest() -> None:
    new = replace(
        V1,
        version=2,
        sections={
            "zeta": "extra one",
            "task": V1.sections["task"],
            "role": V1.sections["role"],
            "safety": "Never promise refunds over $100.",
            "alpha": "extra two",
        },
    )
    diff = diff_versions(V1, new)
    assert [(s.name, s.status) for s in diff.sections] == [
        ("role", "same"),
        ("task", "same"),
        ("examples", "removed"),
        ("safety", "added"),
        ("alpha", "added"),
        ("zeta", "added"),
    ]
    safety = diff.sections[3]
    assert safety.lines == (
        LineOp("added", None, "Never promise refunds over $100.", new_number=1),
    )
    assert (safety.words_added, safety.words_removed) == (5, 0)
    assert diff.sections[2].words_removed == 3
    assert diff.words_added == 9 and diff.words_removed == 3


def test_blank_sections_on_both_sides_are_left_out() -> None:
    old = replace(V1, sections={"task": "x", "safety": ""})
    new = replace(V1, sections={"task": "x", "format": "  "})
    assert [(s.name, s.status) for s in diff_versions(old, new).sections] == [("task", "same")]


def test_metadata_differences_are_listed_field_by_field() -> None:
    new = replace(
        V1,
        version=2,
        model="gpt-4o",
        params={"temperature": 0.7, "top_p": 0.9},
        variables=(Variable("question", "untrusted", 400), Variable("history", "history")),
        examples=(
            Example("billed twice", "Refund the duplicate."),
            Example("reset password", "Link."),
            Example("crash on start", "Ask for logs."),
        ),
        few_shot_k=None,
    )
    assert diff_versions(V1, new).metadata == (
        FieldDiff("model", "changed", "gpt-4o-mini", "gpt-4o"),
        FieldDiff("params.max_tokens", "removed", "300", None),
        FieldDiff("params.temperature", "changed", "0.2", "0.7"),
        FieldDiff("params.top_p", "added", None, "0.9"),
        FieldDiff(
            "variables.question",
            "changed",
            "untrusted, at most 200 tokens",
            "untrusted, at most 400 tokens",
        ),
        FieldDiff("variables.history", "added", None, "history"),
        FieldDiff("variables.company", "removed", "trusted", None),
        FieldDiff(
            "examples[1]",
            "changed",
            "billed twice → Refund.",
            "billed twice → Refund the duplicate.",
        ),
        FieldDiff("examples[3]", "added", None, "crash on start → Ask for logs."),
        FieldDiff("few_shot_k", "removed", "1", None),
    )
    assert diff_versions(V1, new).changed


def test_a_model_set_for_the_first_time_is_an_addition() -> None:
    assert diff_versions(replace(V1, model=""), V1).metadata == (
        FieldDiff("model", "added", None, "gpt-4o-mini"),
    )


def test_removed_examples_are_numbered_in_the_old_pool() -> None:
    fewer = replace(V1, examples=V1.examples[1:])
    assert diff_versions(V1, fewer).metadata == (
        FieldDiff("examples[1]", "removed", "billed twice → Refund.", None),
    )
