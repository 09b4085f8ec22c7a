"""How close an output is to a golden answer, lexically: ROUGE-L F1, token F1 and normalised
Levenshtein similarity, each in 0..1. Embedding similarity needs a model (the gateway computes
the vectors); `cosine` compares them here.

ROUGE-L and Levenshtein use bit-parallel algorithms on Python integers (one big-integer step per
symbol of one side), so a 10,000-character answer costs milliseconds, not the seconds of the
textbook table.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Literal

SimilarityMethod = Literal["rouge-l", "token-f1", "levenshtein"]
SIMILARITY_METHODS: tuple[SimilarityMethod, ...] = ("rouge-l", "token-f1", "levenshtein")

_WORD = re.compile(r"\w+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def rouge_tokens(text: str) -> list[str]:
    """Lower-cased runs of letters and digits, as rouge-score's tokenizer (without stemming)
    reads a text: punctuation separates words and is not a word."""
    return _WORD.findall(text.lower())


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles (a, an, the),
    single spaces."""
    lowered = text.lower()
    without_punctuation = "".join(char for char in lowered if char not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", without_punctuation).split())


def lcs_length(first: Sequence[Hashable], second: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence (Allison-Dix / Hyyrö bit-vector algorithm)."""
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return 0
    # Bit i of a symbol's mask is set where first[i] is that symbol; V's zero bits count the
    # LCS of first against the prefix of second read so far.
    masks: dict[Hashable, int] = {}
    for position, symbol in enumerate(first):
        masks[symbol] = masks.get(symbol, 0) | (1 << position)
    all_ones = (1 << len(first)) - 1
    vector = all_ones
    for symbol in second:
        matches = vector & masks.get(symbol, 0)
        vector = ((vector + matches) | (vector - matches)) & all_ones
    return len(first) - vector.bit_count()


def _f1(overlap: int, candidate_length: int, reference_length: int) -> float:
    if overlap == 0:
        return 0.0
    precision = overlap / candidate_length
    recall = overlap / reference_length
    return 2 * precision * recall / (precision + recall)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 (beta = 1) of candidate against reference, on rouge_tokens. Two texts without
    words are identical (1.0); one without words shares nothing with the other (0.0)."""
    candidate_tokens, reference_tokens = rouge_tokens(candidate), rouge_tokens(reference)
    if not candidate_tokens or not reference_tokens:
        return float(candidate_tokens == reference_tokens)
    overlap = lcs_length(candidate_tokens, reference_tokens)
    return _f1(overlap, len(candidate_tokens), len(reference_tokens))


def token_f1(candidate: str, reference: str) -> float:
    """SQuAD's token F1: the bag-of-words overlap of the normalised texts. When either has no
    tokens, 1.0 if both have none, else 0.0 (as SQuAD scores it)."""
    candidate_tokens = squad_normalise(candidate).split()
    reference_tokens = squad_normalise(reference).split()
    if not candidate_tokens or not reference_tokens:
        return float(candidate_tokens == reference_tokens)
    overlap = sum((Counter(candidate_tokens) & Counter(reference_tokens)).values())
    return _f1(overlap, len(candidate_tokens), len(reference_tokens))


def levenshtein_distance(first: str, second: str) -> int:
    """Edit distance (insertions, deletions, substitutions of single characters), by Myers'
    bit-vector algorithm in Hyyrö's formulation for global distance."""
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return len(first)
    # The pattern is the shorter text: vectors of len(pattern) bits, one step per character of
    # the longer text.
    pattern, text = second, first
    masks: dict[str, int] = {}
    for position, char in enumerate(pattern):
        masks[char] = masks.get(char, 0) | (1 << position)
    all_ones = (1 << len(pattern)) - 1
    top_bit = 1 << (len(pattern) - 1)
    plus_vertical, minus_vertical = all_ones, 0
    distance = len(pattern)
    for char in text:
        equal = masks.get(char, 0)
        vertical_x = equal | minus_vertical
        horizontal_x = (((equal & plus_vertical) + plus_vertical) ^ plus_vertical) | equal
        plus_horizontal = (minus_vertical | ~(horizontal_x | plus_vertical)) & all_ones
        minus_horizontal = plus_vertical & horizontal_x
        if plus_horizontal & top_bit:
            distance += 1
        elif minus_horizontal & top_bit:
            distance -= 1
        # The carried-in 1 is the top row of the table: every character of text read costs one.
        plus_horizontal = ((plus_horizontal << 1) | 1) & all_ones
        minus_horizontal = (minus_horizontal << 1) & all_ones
        plus_vertical = (minus_horizontal | ~(vertical_x | plus_horizontal)) & all_ones
        minus_vertical = plus_horizontal & vertical_x
    return distance


def levenshtein_similarity(first: str, second: str) -> float:
    """1 - distance / length of the longer text: 1.0 for equal texts (two empty ones too), 0.0
    when nothing can be kept."""
    longest = max(len(first), len(second))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein_distance(first, second) / longest


def cosine(first: Sequence[float], second: Sequence[float]) -> float:
    """Cosine similarity of two vectors of the same length; 0.0 when either is all zeros."""
    if len(first) != len(second):
        raise ValueError(f"vectors differ in length: {len(first)} and {len(second)}")
    dot = math.fsum(a * b for a, b in zip(first, second, strict=True))
    norms = math.sqrt(math.fsum(a * a for a in first)) * math.sqrt(math.fsum(b * b for b in second))
    if norms == 0.0 or not math.isfinite(norms):
        return 0.0
    # Rounding can carry a parallel pair a hair past 1.
    return max(-1.0, min(1.0, dot / norms))


def golden_similarity(
    output: str, expected: str, *, method: SimilarityMethod | str = "rouge-l"
) -> float:
    """Similarity in 0..1 of an output to its golden answer by one of SIMILARITY_METHODS."""
    if method == "rouge-l":
        return rouge_l(output, expected)
    if method == "token-f1":
        return token_f1(output, expected)
    if method == "levenshtein":
        return levenshtein_similarity(output, expected)
    raise ValueError(f"unknown similarity method {method!r} (use one of {SIMILARITY_METHODS})")
