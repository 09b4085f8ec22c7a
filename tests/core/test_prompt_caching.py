"""Sections marked cacheable (core/prompts/caching.py): sent first, the same on every call, as
a block marked for the provider's cache; without marks, the rendering is what it always was."""

from __future__ import annotations

from typing import Any

import pytest

from llmbench.core.models import PromptVersion, Variable
from llmbench.core.prompts.caching import (
    CACHE_CONTROL,
    cache_notes,
    cacheable_of,
    is_marked,
    toggled,
    unmarked,
)
from llmbench.core.prompts.diff import diff_versions
from llmbench.core.prompts.templates import Template, render, render_messages, template_of

SECTIONS = {
    "role": "You are the support agent of Acme.",
    "task": "Answer the customer's question.\n{{ question }}",
    "format": "Reply in at most three sentences.",
    "safety": "Never reveal internal notes.",
    "examples": "Q: Where is my parcel?\nA: On its way.",
}
VARIABLES = (Variable("question", "untrusted"),)


def _template(*cacheable: str) -> Template:
    return Template(SECTIONS, VARIABLES, cacheable=cacheable)


def _head(messages: list[dict[str, Any]]) -> dict[str, Any]:
    first = messages[0]
    assert first["role"] == "system"
    return dict(first)


def test_without_marks_the_messages_are_the_plain_rendering() -> None:
    plain = render_messages(_template(), {"question": "Where is it?"})
    assert plain == render(_template(), {"question": "Where is it?"}).messages
    assert all(isinstance(message["content"], str) for message in plain)
    assert not any(is_marked(message) for message in plain)


def test_marked_sections_lead_as_one_block_with_cache_control() -> None:
    messages = render_messages(_template("safety", "role"), {"question": "Where is it?"})
    head = _head(messages)
    # In section order whatever order they were marked in, then the other system sections.
    # The mark on the message, its content text: what every reader of messages expects.
    assert head == {
        "role": "system",
        "content": f"{SECTIONS['role']}\n\n{SECTIONS['safety']}",
        "cache_control": dict(CACHE_CONTROL),
    }
    assert CACHE_CONTROL == {"type": "ephemeral"}
    assert messages[1] == {
        "role": "system",
        "content": f"{SECTIONS['format']}\n\n{SECTIONS['examples']}",
    }
    assert messages[2]["role"] == "user"
    assert "Where is it?" in messages[2]["content"]
    assert len(messages) == 3


def test_the_cached_prefix_is_the_same_whatever_the_variables() -> None:
    template = _template("role", "format", "safety", "examples")
    one = render_messages(template, {"question": "Where is my order?"})
    other = render_messages(template, {"question": "Can I pay by card? " * 50})
    assert one[0] == other[0]
    assert one[-1] != other[-1]
    # Nothing per call sits between the marked sections: they are one block.
    assert "Where is my order?" not in str(one[0])


def test_a_marked_user_section_moves_into_the_cached_head() -> None:
    sections = {"role": "You are terse.", "task": "Summarise the policy below.\n" + "Policy. " * 9}
    template = Template({**sections, "freeform": "{{ doc }}"}, cacheable=("task",))
    messages = render_messages(template, {"doc": "the document"})
    assert _head(messages)["content"] == sections["task"].strip()
    assert messages[1] == {"role": "system", "content": sections["role"]}
    assert messages[2]["role"] == "user" and "the document" in messages[2]["content"]


def test_the_plain_text_of_a_marked_rendering_is_the_previewed_order() -> None:
    template = _template("role", "safety")
    values = {"question": "Where is it?"}
    flat = unmarked(render_messages(template, values))
    # One system message, the cached sections first: what OpenAI's prefix cache gets, and
    # exactly what the editor previews.
    assert flat == render(template, values).messages
    assert flat[0]["content"].startswith(f"{SECTIONS['role']}\n\n{SECTIONS['safety']}\n\n")
    assert not any(is_marked(message) for message in flat)


def test_unmarking_keeps_other_blocks_and_a_conversation_as_it_is() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    marked = {"type": "text", "text": "Look:", "cache_control": {"type": "ephemeral"}}
    messages = [
        {"role": "user", "content": [marked, image]},
        {"role": "assistant", "content": "A cat."},
        {"role": "system", "content": "not merged: the one before it is no system head"},
    ]
    flat = unmarked(messages)
    assert flat[0] == {"role": "user", "content": [{"type": "text", "text": "Look:"}, image]}
    assert flat[1:] == messages[1:]
    assert messages[0]["content"][0] is marked and "cache_control" in marked  # not mutated


def test_unmarking_a_marked_block_head_joins_it_with_the_system_text_after_it() -> None:
    parts = [{"type": "text", "text": "Static.", "cache_control": dict(CACHE_CONTROL)}]
    unmarked_parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    messages = [
        {"role": "system", "content": parts},
        {"role": "system", "content": "Rest."},
        {"role": "user", "content": unmarked_parts},
    ]
    assert unmarked(messages) == [
        {"role": "system", "content": "Static.\n\nRest."},
        {"role": "user", "content": unmarked_parts},  # not marked: left as it is
    ]


def test_marks_are_kept_in_section_order_and_toggle() -> None:
    assert cacheable_of(["safety", "custom", "role", "role"]) == ("role", "safety", "custom")
    assert toggled((), "format") == ("format",)
    assert toggled(("role", "format"), "role") == ("format",)
    assert toggled(("format",), "role") == ("role", "format")


def test_a_version_carries_its_marks_into_the_template() -> None:
    version = PromptVersion(1, 1, 1, dict(SECTIONS), VARIABLES, cacheable=("role",))
    assert template_of(version).cacheable == ("role",)
    assert is_marked(render_messages(template_of(version), {"question": "q"})[0])


@pytest.mark.parametrize(
    ("sections", "few_shot", "expected"),
    [
        ({"role": "Static text."}, False, []),
        ({"role": "You work for {{ company }}."}, False, ["role: uses template code"]),
        ({"role": "  "}, False, ["role: marked cacheable but empty"]),
        ({"examples": "Q: a\nA: b"}, True, ["examples: chosen per call"]),
        ({"examples": "Q: a\nA: b"}, False, []),
    ],
)
def test_notes_say_why_a_marked_section_would_miss_the_cache(
    sections: dict[str, str], few_shot: bool, expected: list[str]
) -> None:
    notes = cache_notes(sections, tuple(sections), few_shot)
    assert len(notes) == len(expected)
    for note, start in zip(notes, expected, strict=True):
        assert note.startswith(start)


def test_a_version_diff_names_the_marks_that_changed() -> None:
    old = PromptVersion(1, 1, 1, dict(SECTIONS), VARIABLES)
    new = PromptVersion(2, 1, 2, dict(SECTIONS), VARIABLES, cacheable=("role", "safety"))
    (added,) = diff_versions(old, new).metadata
    assert (added.field, added.status, added.old, added.new) == (
        "cacheable",
        "added",
        None,
        "role, safety",
    )
    assert diff_versions(new, new).changed is False
