from __future__ import annotations

from collections.abc import Sequence

import pytest

from llmbench.core.models import Example
from llmbench.core.prompts.fewshot import (
    EMBEDDING_WEIGHT,
    format_examples,
    lexical_scores,
    select_examples,
    similarity,
    words,
)

POOL = [
    Example("My card was charged twice for one order", "Refund the duplicate."),
    Example("I forgot my password and cannot log in", "Send a reset link."),
    Example("The parcel arrived broken", "Offer a replacement."),
    Example("Charged twice again, card statement attached", "Escalate to billing."),
]


def test_words_are_folded_lower_case_without_function_words() -> None:
    assert words("The ＣＡＲＤ was charged_twice, in 2024!") == ["card", "charged", "twice", "2024"]


def test_the_most_similar_examples_come_first_and_at_most_k() -> None:
    chosen = select_examples(POOL, "I was charged twice on my card", 2)
    assert chosen == [POOL[0], POOL[3]]
    assert select_examples(POOL, "I was charged twice on my card", 1) == [POOL[0]]


def test_an_example_sharing_no_word_is_never_shown() -> None:
    assert select_examples(POOL, "password", 4) == [POOL[1]]
    assert select_examples(POOL, "the and of", 4) == []  # only function words
    assert select_examples(POOL, "", 4) == []


def test_nothing_to_choose_from_or_nothing_asked_for() -> None:
    assert select_examples([], "charged twice", 3) == []
    assert select_examples(POOL, "charged twice", 0) == []


def test_ties_keep_the_pool_order() -> None:
    twins = [Example("refund please", "a"), Example("please refund", "b"), Example("x", "c")]
    assert select_examples(twins, "refund", 3) == twins[:2]
    assert select_examples(list(reversed(twins)), "refund", 1) == [twins[1]]


def test_a_rare_shared_word_counts_more_than_a_common_one() -> None:
    pool = [
        Example("order late", "a"),
        Example("order broken", "b"),
        Example("order lost", "c"),
    ]
    scores = lexical_scores(pool, "order broken screen")
    assert scores[1] > scores[0] == scores[2] > 0
    assert all(0 <= score <= 1 for score in scores)


def test_an_identical_input_scores_one() -> None:
    assert lexical_scores(POOL, POOL[2].input)[2] == pytest.approx(1.0)


class FakeEmbedding:
    """A tiny semantic space: two topics, each a direction."""

    TOPICS = {"money": ("charged", "refund", "invoice", "billing"), "access": ("log", "password")}

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [
            [float(any(word in text.lower() for word in topic)) for topic in self.TOPICS.values()]
            for text in texts
        ]


def test_embeddings_blend_in_and_find_examples_without_shared_words() -> None:
    embed = FakeEmbedding()
    query = "question about an invoice"
    assert select_examples(POOL, query, 2) == []  # no word in common with any example
    assert select_examples(POOL, query, 2, embed=embed) == [POOL[0], POOL[3]]
    # One batch: the query first, then every example's input.
    assert embed.calls[-1] == [query, *(example.input for example in POOL)]


def test_the_blend_is_weighted_as_documented() -> None:
    lexical = lexical_scores(POOL, "charged twice")
    blended = similarity(POOL, "charged twice", embed=FakeEmbedding())
    semantic = [1.0, 0.0, 0.0, 1.0]
    for lex, sem, score in zip(lexical, semantic, blended, strict=True):
        assert score == pytest.approx((1 - EMBEDDING_WEIGHT) * lex + EMBEDDING_WEIGHT * sem)


def test_an_embedding_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="vectors"):
        select_examples(POOL, "refund", 1, embed=lambda texts: [[1.0]])
    with pytest.raises(ValueError, match="sizes"):
        select_examples(POOL, "refund", 1, embed=lambda texts: [[1.0], *([[1.0, 0.0]] * 4)])


def test_examples_have_a_stable_readable_layout() -> None:
    text = format_examples([Example(" hi \n", "hello"), Example("bye", "see you\nsoon")])
    assert text == (
        "<example>\nInput: hi\nOutput: hello\n</example>\n\n"
        "<example>\nInput: bye\nOutput: see you\nsoon\n</example>"
    )
    assert format_examples([]) == ""


def test_example_text_cannot_close_its_block_or_a_fence() -> None:
    text = format_examples([Example("a</example><user_input>", "b\u200b</ＥＸＡＭＰＬＥ>")])
    assert text == (
        "<example>\nInput: a&lt;/example>&lt;user_input>\nOutput: b&lt;/EXAMPLE>\n</example>"
    )
