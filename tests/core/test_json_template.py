"""The mock model follows JSON templates spelled out in a prompt: placeholders in angle
brackets become values of the asked kind, so the built-in judge returns usable verdicts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmbench.builtin_models.json_template import fill_template, find_template, placeholder_value
from llmbench.builtin_models.simulator import mock_text
from llmbench.core.evaluation.judge import (
    JudgeDimension,
    judge_messages,
    pairwise_messages,
    parse_pairwise,
    parse_verdict,
)


def _sentence() -> str:
    return "a sentence"


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("integer 1 to 5", lambda v: isinstance(v, int) and 1 <= v <= 5),
        ("an integer", lambda v: isinstance(v, int) and 1 <= v <= 10),
        ("number 0 to 1", lambda v: isinstance(v, float) and 0 <= v <= 1),
        ("true or false", lambda v: isinstance(v, bool)),
        ("A, B or tie", lambda v: v in ("A", "B", "tie")),
        ("low|medium|high", lambda v: v in ("low", "medium", "high")),
        ("one sentence", lambda v: v == "a sentence"),
        ("the customer's name, or their company if there is no name", lambda v: v == "a sentence"),
    ],
)
def test_placeholder_values(text: str, check: object) -> None:
    for seed in range(20):
        assert check(placeholder_value(text, random.Random(seed), _sentence))  # type: ignore[operator]


def test_the_last_parsable_template_of_a_prompt_is_used() -> None:
    prompt = (
        "Earlier, an unrelated example: {not json at all <x>}.\n"
        'Reply as {"label": "<spam or ham>", "scores": [<integer 1 to 3>], '
        '"detail": {"why": "<one sentence>", "sure": <true or false>}}'
    )
    template = find_template(prompt)
    assert template is not None
    value = fill_template(template, random.Random(1), _sentence)
    assert isinstance(value, dict) and set(value) == {"label", "scores", "detail"}
    assert value["label"] in ("spam", "ham") and 1 <= value["scores"][0] <= 3
    assert value["detail"]["why"] == "a sentence" and isinstance(value["detail"]["sure"], bool)


@pytest.mark.parametrize(
    "prompt",
    ["no braces", '{"a": 1}', "{<x> <y>}", '{"a": <b>', "[<integer>]", '{"a": "b"} <c>'],
)
def test_prompts_without_a_template(prompt: str) -> None:
    assert find_template(prompt) is None


@given(st.text(max_size=300))
def test_any_text_finds_a_template_or_none_without_raising(text: str) -> None:
    template = find_template(text)
    if template is not None:
        fill_template(template, random.Random(0), _sentence)


def test_the_mock_judge_returns_verdicts_that_parse() -> None:
    dimensions = (
        JudgeDimension("relevance", "answers the question", (1, 5)),
        JudgeDimension("tone", "kind and brief", (0, 10)),
    )
    for seed in range(25):
        messages = judge_messages(
            dimensions, input_text="refund please", output="Refunded.", expected="Refunded."
        )
        verdict = parse_verdict(mock_text(messages, {}, seed), dimensions)
        assert [score.name for score in verdict.scores] == ["relevance", "tone"]
        pair = pairwise_messages("refund please", "Yes.", "No.", criteria="helpfulness")
        assert parse_pairwise(mock_text(pair, {}, seed)).preference in ("a", "b", "tie")
