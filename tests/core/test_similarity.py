from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmbench.core.evaluation.similarity import (
    SIMILARITY_METHODS,
    cosine,
    golden_similarity,
    lcs_length,
    levenshtein_distance,
    levenshtein_similarity,
    rouge_l,
    squad_normalise,
    token_f1,
)


def test_rouge_l_on_a_worked_example() -> None:
    # reference: the cat sat on the mat        (6 tokens)
    # candidate: the cat lay on the red mat    (7 tokens)
    # LCS: the, cat, on, the, mat = 5
    # P = 5/7, R = 5/6, F1 = 2PR/(P+R) = (50/42) / (65/42) = 10/13
    assert rouge_l("The cat lay on the red mat.", "the cat sat on the mat") == pytest.approx(
        10 / 13
    )


def test_rouge_l_edges() -> None:
    assert rouge_l("same words here", "Same, words; here!") == 1.0
    assert rouge_l("", "") == 1.0
    assert rouge_l("...", "") == 1.0  # no words on either side
    assert rouge_l("", "something") == 0.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0
    # word order matters to ROUGE-L, not to token F1
    assert rouge_l("b a", "a b") == pytest.approx(0.5)
    assert token_f1("b a", "a b") == 1.0


def test_token_f1_squad_normalisation() -> None:
    assert squad_normalise("The  Cat, sat; on A mat!") == "cat sat on mat"
    # "cat sat on mat" vs "cat lay on red mat": overlap 3, P = 3/5, R = 3/4, F1 = 2/3
    assert token_f1("A cat lay on the red mat", "The cat sat on the mat.") == pytest.approx(2 / 3)
    # repeated tokens count only as often as they appear on both sides
    assert token_f1("yes yes yes", "yes") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert token_f1("the", "a") == 1.0  # both empty after normalisation, as SQuAD scores it
    assert token_f1("the", "cat") == 0.0


def test_levenshtein_known_values() -> None:
    assert levenshtein_distance("kitten", "sitting") == 3
    assert levenshtein_distance("flaw", "lawn") == 2
    assert levenshtein_distance("", "abc") == 3
    assert levenshtein_distance("abc", "abc") == 0
    assert levenshtein_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert levenshtein_similarity("", "") == 1.0
    assert levenshtein_similarity("abc", "xyz") == 0.0


def test_cosine() -> None:
    assert cosine([1.0, 0.0], [0.0, 1.0]) == 0.0
    assert cosine([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(-1.0)
    assert cosine([3, 4], [4, 3]) == pytest.approx(24 / 25)
    assert cosine([0.0, 0.0], [1.0, 1.0]) == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        cosine([1.0], [1.0, 2.0])


def test_golden_similarity_dispatches_and_refuses_unknown_methods() -> None:
    output, expected = "the cat lay on the red mat", "the cat sat on the mat"
    assert golden_similarity(output, expected) == rouge_l(output, expected)
    assert golden_similarity(output, expected, method="token-f1") == token_f1(output, expected)
    assert golden_similarity(output, expected, method="levenshtein") == levenshtein_similarity(
        output, expected
    )
    with pytest.raises(ValueError, match="unknown similarity method"):
        golden_similarity(output, expected, method="bleu")


def test_long_texts_are_fast_enough() -> None:
    words = [f"w{index % 97}" for index in range(5_000)]
    text = " ".join(words)
    shuffled = " ".join(reversed(words))
    assert 0.0 < rouge_l(text, shuffled) < 1.0
    assert 0.0 < levenshtein_similarity(text[:8_000], shuffled[:8_000]) < 1.0


# -- the bit-parallel algorithms against the textbook tables --------------------------------


def _lcs_table(first: str, second: str) -> int:
    table = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if a == b else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


def _levenshtein_table(first: str, second: str) -> int:
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


small_texts = st.text(alphabet="abcé ", max_size=14)


@settings(max_examples=300)
@given(small_texts, small_texts)
def test_lcs_matches_the_table(first: str, second: str) -> None:
    assert lcs_length(first, second) == _lcs_table(first, second)


@settings(max_examples=300)
@given(small_texts, small_texts)
def test_levenshtein_matches_the_table(first: str, second: str) -> None:
    assert levenshtein_distance(first, second) == _levenshtein_table(first, second)


@given(st.text(max_size=60), st.text(max_size=60), st.sampled_from(SIMILARITY_METHODS))
def test_similarities_are_bounded_symmetric_and_one_on_identity(
    first: str, second: str, method: str
) -> None:
    score = golden_similarity(first, second, method=method)
    assert 0.0 <= score <= 1.0
    assert math.isclose(score, golden_similarity(second, first, method=method))
    assert golden_similarity(first, first, method=method) == 1.0
